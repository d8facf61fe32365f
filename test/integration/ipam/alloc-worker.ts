/**
 * Child process for the IPAM race test: allocates `count` single addresses
 * for node `node`, one handle per address (like one pod each), and prints
 * the result as one JSON line. Run through `ts-loader.js` (below, in the
 * test), which transpiles TypeScript on require.
 */
import { Datastore } from '../../../src/datastore';
import { Ipam } from '../../../src/ipam';

async function main(): Promise<void> {
  const [endpoint, node, countText, handlePrefix] = process.argv.slice(2) as [string, string, string, string];
  const ds = Datastore.connect({ endpoints: [endpoint] });
  const ipam = new Ipam(ds);
  const allocations: Array<{ handle: string; ip: string }> = [];
  try {
    for (let i = 0; i < Number(countText); i++) {
      const handle = `${handlePrefix}-${i}`;
      const r = await ipam.autoAssign({ node, handleId: handle, num4: 1, attrs: { node, pod: handle } });
      allocations.push({ handle, ip: r.ipv4[0] as string });
    }
    process.stdout.write(`${JSON.stringify({ ok: true, allocations })}\n`);
  } catch (e) {
    process.stdout.write(`${JSON.stringify({ ok: false, error: String(e), allocations })}\n`);
  } finally {
    ds.close();
  }
}

void main();
