import { renderNodeStatus } from '../../../src/cli/node-status';
import type { NodeStatus, PeerStatus } from '../../../src/control/types';

const now = new Date(2026, 10, 25, 12, 0, 0);

function peer(over: Partial<PeerStatus>): PeerStatus {
  return {
    name: 'p', address: '192.0.2.1', port: 179, asNumber: 64512, localAsNumber: 64512, peerType: 'node specific',
    session: 'ibgp', enabled: true, passive: false, state: 'Established', since: new Date(2026, 10, 25, 11, 30, 4).toISOString(),
    families: [{ family: 'ipv4-unicast', received: 3, accepted: 3, advertised: 2 }],
    messages: { received: 0, sent: 0, updatesReceived: 0, updatesSent: 0, notificationsReceived: 0, notificationsSent: 0 },
    ...over,
  };
}

const status: NodeStatus = {
  nodeName: 'node-a', asNumber: 64512, routerId: '192.0.2.10', version: '0.1.0', pid: 1, startedAt: now.toISOString(),
  peers: [
    peer({}),
    peer({ address: '192.0.2.2', state: 'Active', lastError: 'Socket: Connection refused', since: new Date(2026, 10, 20, 1, 2, 3).toISOString() }),
  ],
};

describe('tartanctl node status rendering', () => {
  it('prints calicoctl node status layout', () => {
    expect(renderNodeStatus(status, { now })).toBe(
      [
        'Tartan process is running.',
        '',
        'IPv4 BGP status',
        '+--------------+---------------+-------+------------+-----------------------------------+',
        '| PEER ADDRESS |   PEER TYPE   | STATE |   SINCE    |               INFO                |',
        '+--------------+---------------+-------+------------+-----------------------------------+',
        '| 192.0.2.1    | node specific | up    | 11:30:04   | Established                       |',
        '| 192.0.2.2    | node specific | start | 2026-11-20 | Active Socket: Connection refused |',
        '+--------------+---------------+-------+------------+-----------------------------------+',
        '',
        'IPv6 BGP status',
        'No IPv6 peers found.',
        '',
      ].join('\n'),
    );
  });

  it('adds AS and route counts with -o wide', () => {
    const text = renderNodeStatus({ ...status, peers: [peer({ address: '2001:db8::1' })] }, { now, wide: true });
    expect(text).toContain('No IPv4 peers found.');
    expect(text).toMatch(/\| 2001:db8::1 +\| node specific \| up +\| 11:30:04 \| Established \| 64512 \| ipv4 3\/3\/2 +\|/);
    expect(text).toContain('ROUTES (RCVD/ACC/ADV)');
  });

  it('shows a disabled peer as down', () => {
    expect(renderNodeStatus({ ...status, peers: [peer({ enabled: false, state: 'Idle' })] }, { now })).toMatch(/\| down +\| 11:30:04 \| Disabled \|/);
  });
});
