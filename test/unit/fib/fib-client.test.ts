import { MessageChannel } from 'node:worker_threads';
import { FibClient } from '../../../src/bgp/fib/fib-client';
import { serveFib, type FibPort, type WireFailure } from '../../../src/bgp/fib/fib-host';
import { keyFromCidr } from '../../../src/bgp/rib/prefix-key';
import { FakeNetlinkKernel } from './fake-kernel';

/** Client and host over a MessageChannel in this thread, the host on a fake kernel (the worker's code path). */
function setup(): { k: FakeNetlinkKernel; client: FibClient; failures: WireFailure[]; set: (cidr: string, ...hops: string[]) => void; close: () => Promise<void> } {
  const k = new FakeNetlinkKernel();
  const { port1, port2 } = new MessageChannel();
  let stopped = false;
  serveFib(port2 as unknown as FibPort, { protocol: 201, table: 254, metric: 32, resyncIntervalMs: 0 }, k.driver(), () => {
    stopped = true;
  });
  const failures: WireFailure[] = [];
  const client = new FibClient(port1 as unknown as FibPort, { onFailures: (f) => failures.push(...f) });
  const key = new Uint32Array(4);
  return {
    k,
    client,
    failures,
    set: (cidr, ...hops) => client.update(cidr.includes(':') ? 1 : 0, key, keyFromCidr(cidr, key), hops),
    close: async () => {
      client.stop();
      for (let i = 0; i < 100 && !stopped; i++) await new Promise((r) => setImmediate(r));
      expect(stopped).toBe(true);
      port1.close();
      port2.close();
    },
  };
}

describe('FibClient ↔ serveFib', () => {
  test('updates made before start are the desired state start reconciles; later ones stream', async () => {
    const { k, client, set, close } = setup();
    k.put({ dst: '10.9.0.0/24', nextHops: [{ gateway: '198.18.0.2' }] });
    set('10.1.0.0/24', '198.18.0.2');
    set('10.2.0.0/24', '198.18.0.3', '198.18.0.2');
    set('2001:db8:1::/48', '2001:db8::2');
    expect(await client.countKernelRoutes()).toBe(1);
    expect(await client.start()).toEqual({ adds: 3, replaces: 0, deletes: 1, failed: 0 });
    expect(client.routeCount).toBe(3);
    expect(client.counters).toMatchObject({ adds: 3, deletes: 1, resyncs: 1 });
    set('10.1.0.0/24', '198.18.0.3');
    set('2001:db8:1::/48');
    await client.whenIdle();
    expect(k.summary()).toEqual(['10.1.0.0/24 m32 via 198.18.0.3', '10.2.0.0/24 m32 via 198.18.0.2,198.18.0.3']);
    expect(client.counters).toMatchObject({ adds: 3, replaces: 1, deletes: 2 });
    expect(await client.resync()).toEqual({ adds: 0, replaces: 0, deletes: 0, failed: 0 });
    await close();
  });

  test('large batches and many distinct next-hop texts cross intact', async () => {
    const { k, client, close } = setup();
    await client.start();
    const key = new Uint32Array(1);
    const gw = (i: number): string => `198.18.${i % 4}.${(i % 250) + 1}`;
    for (let i = 0; i < 50_000; i++) {
      key[0] = (0x0a000000 + i) >>> 0;
      client.update(0, key, 32, [gw(i)]);
    }
    await client.whenIdle();
    expect(client.routeCount).toBe(50_000);
    for (const i of [0, 777, 49_999]) {
      const dst = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}/32`;
      expect(k.get(dst)!.nextHops[0]!.gateway).toBe(gw(i));
    }
    await close();
  });

  test('failures are forwarded with prefix and error code', async () => {
    const { k, client, set, failures, close } = setup();
    k.put({ dst: '10.1.0.0/24', protocol: 4, nextHops: [{ gateway: '198.18.0.9' }] });
    set('10.1.0.0/24', '198.18.0.2');
    expect(await client.start()).toMatchObject({ adds: 0, failed: 1 });
    await client.whenIdle();
    expect(failures).toEqual([expect.objectContaining({ kind: 'add', prefix: '10.1.0.0/24', code: 'NETLINK_EEXIST' })]);
    await close();
  });

  test('after stop, calls fail and updates are ignored', async () => {
    const { client, set, close } = setup();
    await close();
    set('10.1.0.0/24', '198.18.0.2');
    await expect(client.start()).rejects.toMatchObject({ code: 'FIB_STOPPED' });
  });
});
