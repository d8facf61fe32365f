import type { NodeStatus, PeerStatus } from '../control/types';
import type { CalicoNodeStatus, CalicoNodeStatusPeer } from '../datastore';
import { boxTable } from './table';

/** BIRD's protocol state column, which calicoctl shows as STATE. */
function birdState(p: PeerStatus): string {
  if (!p.enabled) return 'down';
  if (p.state === 'Established') return 'up';
  return 'start';
}

/** BIRD's info column: the BGP state, then the last error (e.g. "Active Socket: Connection refused"). */
function info(p: PeerStatus): string {
  if (!p.enabled) return 'Disabled';
  if (p.state === 'Established' || !p.lastError) return p.state;
  return `${p.state} ${p.lastError}`;
}

/** HH:MM:SS for today, the date otherwise — how BIRD prints "since". */
function since(iso: string, now: Date): string {
  const t = new Date(iso);
  const sameDay = t.toDateString() === now.toDateString();
  const pad = (n: number): string => String(n).padStart(2, '0');
  return sameDay
    ? `${pad(t.getHours())}:${pad(t.getMinutes())}:${pad(t.getSeconds())}`
    : `${t.getFullYear()}-${pad(t.getMonth() + 1)}-${pad(t.getDate())}`;
}

function isIpv6(address: string): boolean {
  return address.includes(':');
}

/** `calicoctl node status` layout; `wide` adds route counts per peer. */
export function renderNodeStatus(status: NodeStatus, opts: { wide?: boolean; now?: Date } = {}): string {
  const now = opts.now ?? new Date();
  const out: string[] = ['Tartan process is running.', ''];
  for (const [label, v6] of [['IPv4', false], ['IPv6', true]] as const) {
    out.push(`${label} BGP status`);
    const peers = status.peers.filter((p) => isIpv6(p.address) === v6);
    if (peers.length === 0) {
      out.push(`No ${label} peers found.`, '');
      continue;
    }
    const headings = ['Peer address', 'Peer type', 'State', 'Since', 'Info'];
    if (opts.wide) headings.push('ASN', 'Routes (rcvd/acc/adv)');
    const rows = peers.map((p) => {
      const row = [p.address, p.peerType, birdState(p), since(p.since, now), info(p)];
      if (opts.wide) {
        row.push(String(p.asNumber));
        row.push(p.families.map((f) => `${f.family.replace('-unicast', '')} ${f.received}/${f.accepted}/${f.advertised}`).join(', '));
      }
      return row;
    });
    out.push(boxTable(headings, rows), '');
  }
  return out.join('\n');
}

const CNS_PEER_TYPE: Record<CalicoNodeStatusPeer['type'], string> = {
  NodeMesh: 'node-to-node mesh',
  NodePeer: 'node specific',
  GlobalPeer: 'global',
};

/**
 * `node status --node NAME`: the same layout from a CalicoNodeStatus
 * resource (status.bgp.peersV4/V6) that the node publishes to the datastore.
 */
export function renderCalicoNodeStatus(node: string, r: CalicoNodeStatus): string {
  const st = r.status;
  const out: string[] = [`Status of node ${node} from the datastore (CalicoNodeStatus ${r.metadata.name}, updated ${st?.lastUpdated ?? 'never'}).`, ''];
  if (!st?.bgp) {
    out.push(`No BGP status has been published for node ${node} yet.`);
    return out.join('\n');
  }
  for (const [label, peers] of [['IPv4', st.bgp.peersV4 ?? []], ['IPv6', st.bgp.peersV6 ?? []]] as const) {
    out.push(`${label} BGP status`);
    if (peers.length === 0) {
      out.push(`No ${label} peers found.`, '');
      continue;
    }
    const rows = peers.map((p) => [p.peerIP, CNS_PEER_TYPE[p.type] ?? p.type, p.state === 'Established' ? 'up' : 'start', p.since ?? '', p.state]);
    out.push(boxTable(['Peer address', 'Peer type', 'State', 'Since', 'Info'], rows), '');
  }
  return out.join('\n');
}
