/**
 * Export fan-out of the routing engine alone (no sockets): one iBGP
 * route-reflector client sends N /32s in wire form; the engine decides them
 * and exports them to T other clients (each target's send takes the buffers
 * at once). Prints the median of 3 of the time from the first UPDATE to
 * idle, for T = 0 (decision only), 1, 4, 16, and how many flushes shared one
 * encoding between targets.
 *
 *   node -r ./bench/rib/ts-hook.js bench/export/export.ts [N]
 */
import { RibEngine, type SourceInfo, type TargetInfo } from '../../src/bgp/rib/engine';
import { addressSortKey, ipv4ToNumber } from '../../src/bgp/rib/decision';
import type { CodecOptions, Family } from '../../src/bgp/wire';
const codec: CodecOptions = { fourOctetAs: true, extendedMessage: false, addPath: new Set<Family>() };
function source(name: string, ibgp: boolean, rrClient = false): SourceInfo {
  return { name, summary: { local: false, ibgp, routerId: ipv4ToNumber(name), addressKey: addressSortKey(name) }, origin: { local: false, ibgp, fromRrClient: rrClient, peerRouterId: name, localAs: 64512 } };
}
let shared = 0;

async function run(targets: number, n: number): Promise<number> {
  const e = new RibEngine({ me: { routerId: '192.0.2.10', clusterId: '192.0.2.10' }, decision: { alwaysCompareMed: false } });
  const src = e.addSource(source('192.0.2.1', true, true));
  let bytes = 0;
  for (let i = 0; i < targets; i++) {
    const id = e.addSource(source(`192.0.2.${20 + i}`, true, true));
    const t: TargetInfo = { ibgp: true, rrClient: true, localAs: 64512, nextHopMode: 'auto', nextHopSelf: { ipv4: '192.0.2.10' }, families: ['ipv4-unicast'], codec, send: async (b) => { for (const x of b) bytes += x.length; } };
    await e.setTarget(id, t);
  }
  const buf = Buffer.alloc(n * 5);
  for (let i = 0; i < n; i++) { buf[i * 5] = 32; buf.writeUInt32BE((0x0a000000 + i) >>> 0, i * 5 + 1); }
  const t0 = process.hrtime.bigint();
  const chunk = 813 * 5;
  for (let off = 0; off < buf.length; off += chunk) e.announce(src, 'ipv4-unicast', { origin: 0, asPath: [], nextHops: ['192.0.2.1'], localPref: 100 }, { packed: buf.subarray(off, Math.min(buf.length, off + chunk)), addPath: false });
  await e.idle();
  shared = e.sharedEncodings;
  return Number(process.hrtime.bigint() - t0) / 1e6;
}
void (async () => {
  const n = Number(process.argv[2] ?? 1_000_000);
  console.log(`| targets | N | ms (median of 3) | flushes sharing an encoding |`);
  console.log(`| --- | --- | --- | --- |`);
  for (const t of [0, 1, 4, 16]) {
    const ms: number[] = [];
    for (let r = 0; r < 3; r++) ms.push(await run(t, n));
    ms.sort((a, b) => a - b);
    console.log(`| ${t} | ${n} | ${ms[1]!.toFixed(0)} | ${shared} |`);
  }
})();
