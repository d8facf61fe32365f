/**
 * A running tartan-node serves Prometheus metrics and calico-node-style
 * health probes about its real sessions: ready only while every peer is
 * Established.
 */
import { Lab, startBird, waitFor, type DaemonHandle, type Host } from '../harness';
import { startTartan, type TartanNode } from '../tartan/tartan-node';

/** GET a URL from inside the host's namespace (the servers listen there). */
async function get(h: Host, url: string): Promise<{ status: number; body: string }> {
  const out = await h.exec(['node', '-e', `fetch(${JSON.stringify(url)}).then(async (r) => console.log(JSON.stringify({ status: r.status, body: await r.text() })))`]);
  return JSON.parse(out) as { status: number; body: string };
}

describe('metrics and health of a running node', () => {
  let lab: Lab;
  let t: Host, b: Host;
  let tartan: TartanNode;
  let bird: DaemonHandle;

  beforeAll(async () => {
    lab = await Lab.create('ops');
    [t, b] = [await lab.addHost('t'), await lab.addHost('b')];
    bird = await startBird(b, { asn: 65001, routerId: b.addr('ipv4'), peers: [{ address: t.addr('ipv4'), asn: 64512, holdTime: 9 }], originate: [{ prefix: '10.160.0.0/24' }, { prefix: '10.160.1.0/24' }] });
    tartan = await startTartan(t, { asn: 64512, peers: [{ address: b.addr('ipv4'), asn: 65001, holdTime: 9, families: ['ipv4-unicast'] }], originate: [{ prefix: '10.161.0.0/24' }] });
  });

  afterAll(async () => {
    await lab?.destroy();
  });

  it('reports sessions and routes in Prometheus format', async () => {
    await tartan.waitEstablished(b.addr('ipv4'));
    const m = await waitFor(
      async () => {
        const r = await get(t, 'http://127.0.0.1:9091/metrics');
        return /tartan_bgp_routes\{[^}]*table="accepted"[^}]*\} 2/.test(r.body) ? r : undefined;
      },
      { what: 'metrics to show the two accepted routes' },
    );
    expect(m.status).toBe(200);
    expect(m.body).toMatch(/tartan_bgp_sessions\{state="Established"\} 1/);
    expect(m.body).toMatch(/tartan_bgp_routes\{[^}]*table="advertised"[^}]*\} 1/);
    expect(m.body).toMatch(/tartan_fib_operations_total\{[^}]*op="add"[^}]*\} 2/);
    expect(m.body).toContain('tartan_process_resident_memory_bytes');
  });

  it('is ready while every peer is Established, and says why not otherwise', async () => {
    const ready = await waitFor(async () => {
      const r = await get(t, 'http://127.0.0.1:9099/readiness');
      return r.status === 200 ? r : undefined;
    }, { what: 'readiness 200' });
    expect(ready.status).toBe(200);
    expect((await get(t, 'http://127.0.0.1:9099/liveness')).status).toBe(200);
    await bird.withdraw('10.160.1.0/24');
    await waitFor(async () => /tartan_bgp_withdrawals_total\{[^}]*direction="in"[^}]*\} 1/.test((await get(t, 'http://127.0.0.1:9091/metrics')).body), {
      what: 'the withdrawal to be counted',
    });
    await bird.stop();
    const notReady = await waitFor(async () => {
      const r = await get(t, 'http://127.0.0.1:9099/readiness?detail=true');
      return r.status === 503 ? r : undefined;
    }, { what: 'readiness 503 after the peer went away' });
    expect(notReady.body).toContain(b.addr('ipv4'));
    // BIRD said goodbye with a Cease: counted by code.
    const m = (await get(t, 'http://127.0.0.1:9091/metrics')).body;
    expect(m).toMatch(/tartan_bgp_notifications_total\{[^}]*direction="in"[^}]*code="6"[^}]*\} 1/);
    expect((await get(t, 'http://127.0.0.1:9099/liveness')).status).toBe(200);
  });
});
