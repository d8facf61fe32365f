/**
 * An rtnetlink event socket flooded by route notifications (a full table
 * being programmed) must not take the process down: the `netlink` package
 * aborts on the error an overflow raises (src/netsock/netlink-guard.ts), so
 * event sockets are opened with NETLINK_NO_ENOBUFS. The flood runs in a child
 * process inside a lab namespace, since the failure is an abort.
 */
import { join } from 'node:path';
import { Lab, type Host } from '../harness';

const DIST_NETLINK = join(__dirname, '../../../dist/netlink');

describe('netlink event socket under a notification flood', () => {
  let lab: Lab;
  let host: Host;

  beforeAll(async () => {
    lab = await Lab.create('nl-flood');
    host = await lab.addHost('h');
    await lab.addHost('gw');
  });

  afterAll(async () => {
    await lab?.destroy();
  });

  it('survives 60,000 route notifications, more than its receive buffer holds', async () => {
    const gw = lab.hosts.get('gw')!.addr('ipv4');
    const out = await host.exec(['node', join(__dirname, 'event-flood-child.js'), DIST_NETLINK, '60000', gw], { allowFailure: true, timeoutMs: 60_000 });
    expect(out).toMatch(/^survived 60000 \d+$/m);
    // The receive buffer cannot hold 60,000 notifications: some were dropped, silently.
    const events = Number(/survived 60000 (\d+)/.exec(out)![1]);
    expect(events).toBeLessThan(60000);
  });
});
