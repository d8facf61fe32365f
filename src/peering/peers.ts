/**
 * Which BGP sessions this node should have, computed the way Calico's confd
 * does it (`confd/pkg/backends/calico/client.go` `updatePeersV1`,
 * `nodeAsBGPPeers`; `bgp_processor.go` `processMeshPeers`,
 * `buildPeerFromData`). Pure: a snapshot in, peer entries out.
 *
 * - Mesh: only when `nodeToNodeMeshEnabled` and this node has no
 *   routeReflectorClusterID; one peer per other node with an address of the
 *   family, skipping nodes that are route reflectors. Passive when the peer IP
 *   is string-greater than ours (Calico compares the strings), so the mesh is
 *   unidirectional.
 * - Global peers: BGPPeers with neither `node` nor `nodeSelector`.
 * - Node-specific peers: BGPPeers whose `node`/`nodeSelector` selects this
 *   node; skipped when a global peering to the same IP exists.
 * - `peerSelector`: each selected node is a peer (its IP, AS, listen port
 *   and cluster ID).
 * - Reverse peerings: unless `reversePeering: Manual`, a node selected by a
 *   BGPPeer's peerSelector (or whose IP and AS are its peerIP and asNumber)
 *   peers back with the nodes the BGPPeer's node/nodeSelector selects (all
 *   nodes if neither is set). An explicit peering wins over a reverse one.
 * - Route reflection: when this node has a cluster ID, an iBGP peer whose
 *   cluster ID is empty or different is a route-reflector client.
 *
 * Peers are keyed by IP here (one session per address, as the speaker keeps
 * them). Calico keys by IP and port and could configure a mesh and an
 * explicit peering to one address side by side (two BIRD protocols to one
 * neighbour); here the explicit one (global, then node-specific) wins.
 */
import { isIP } from 'node:net';
import { parseSelector, type Labels, type Selector } from '../selector';
import { DEFAULT_AS_NUMBER, DEFAULT_LISTEN_PORT, type BGPConfiguration, type BGPPeer, type NodeResource } from '../datastore';
import type { PeerConfigEntry, PeerType } from '../config/types';
import type { Family } from '../bgp/wire/types';
import { asNumberOf, durationSeconds, stripMask, type ClusterSnapshot } from './snapshot';

/** Session defaults from the node config (bgp section). */
export interface PeeringDefaults {
  holdTime: number;
  keepaliveTime?: number;
  connectRetryTime: number;
}

/** This node as the datastore describes it. */
export interface LocalBgpIdentity {
  nodeName: string;
  ipv4?: string;
  ipv6?: string;
  /** The node's spec.bgp.asNumber, or the global one. */
  asNumber: number;
  /** Non-empty: this node is a route reflector with this cluster ID. */
  routeReflectorClusterID?: string;
  /** Port to accept BGP on: node.<name> BGPConfiguration, else default, else 179. */
  listenPort: number;
  /** BGPConfiguration bindMode: NodeIP = listen on the node address only. */
  bindMode: 'None' | 'NodeIP';
}

export interface PeeringResult {
  /** Undefined when this node's Node resource is not (yet) in the datastore. */
  local: LocalBgpIdentity | undefined;
  /** Sorted by name, as confd sorts BIRD protocols. */
  peers: PeerConfigEntry[];
  /** Things skipped, in words (bad selector, no address…), for the log. */
  notes: string[];
}

/** A Calico node reduced to what peering needs (`nodeToBGPFields` + listen port). */
interface NodeInfo {
  name: string;
  labels: Labels;
  ipv4?: string;
  ipv6?: string;
  /** The node's own AS, or undefined to inherit the global one. */
  asNumber?: number;
  rrClusterID: string;
  /** Port the node listens on when configured (node.<name>, else the global listenPort); 0 = not set. */
  listenPort: number;
}

/** One peering before it becomes a PeerConfigEntry (confd `bgpPeer`). */
interface Candidate {
  ip: string;
  port: number;
  asNumber: number;
  rrClusterID: string;
  /** confd `calico_node`: set only for peerIP peerings whose IP is a node's (not for selector-derived ones). */
  calicoNode: boolean;
  /** Derived from a Node (mesh, peerSelector, reverse), not from an explicit peerIP. */
  fromNode: boolean;
  resource?: BGPPeer;
}

const PREFIX: Record<PeerType, string> = { 'node-to-node mesh': 'Mesh', global: 'Global', 'node specific': 'Node' };

export function computePeering(s: ClusterSnapshot, defaults: PeeringDefaults): PeeringResult {
  const notes: string[] = [];
  const globalCfg = s.bgpConfigurations.find((c) => c.metadata.name === 'default')?.spec ?? {};
  const globalAs = asNumberOf(globalCfg.asNumber) ?? DEFAULT_AS_NUMBER;
  const globalListenPort = globalCfg.listenPort ?? 0;
  const nodeListenPort = (name: string): number | undefined => findConfig(s.bgpConfigurations, name)?.spec.listenPort;

  const nodes = [...s.nodes].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name)).map((n) => nodeInfo(n, nodeListenPort(n.metadata.name) ?? globalListenPort));
  const me = nodes.find((n) => n.name === s.nodeName);
  if (!me) return { local: undefined, peers: [], notes: [`Node "${s.nodeName}" is not in the datastore yet`] };
  const myAs = me.asNumber ?? globalAs;
  const local: LocalBgpIdentity = {
    nodeName: me.name,
    ...(me.ipv4 ? { ipv4: me.ipv4 } : {}),
    ...(me.ipv6 ? { ipv6: me.ipv6 } : {}),
    asNumber: myAs,
    ...(me.rrClusterID ? { routeReflectorClusterID: me.rrClusterID } : {}),
    listenPort: nodeListenPort(me.name) ?? (globalListenPort || DEFAULT_LISTEN_PORT),
    bindMode: globalCfg.bindMode ?? 'None',
  };
  const myIp = (f: 4 | 6): string | undefined => (f === 4 ? me.ipv4 : me.ipv6);
  const nodeIps = new Set(nodes.flatMap((n) => [n.ipv4, n.ipv6].filter((x): x is string => !!x)));

  const selectorCache = new Map<string, Selector | null>();
  const select = (text: string, what: string): NodeInfo[] => {
    let sel = selectorCache.get(text);
    if (sel === undefined) {
      try {
        sel = parseSelector(text);
      } catch (e) {
        sel = null;
        notes.push(`${what}: invalid selector ${JSON.stringify(text)}: ${(e as Error).message}`);
      }
      selectorCache.set(text, sel);
    }
    return sel ? nodes.filter((n) => sel.matches(n.labels)) : [];
  };
  const asCandidates = (n: NodeInfo, v4: boolean, v6: boolean): Candidate[] => {
    const out: Candidate[] = [];
    for (const [ok, ip] of [[v4, n.ipv4], [v6, n.ipv6]] as const) {
      if (ok && ip) out.push({ ip, port: n.listenPort, asNumber: n.asNumber ?? globalAs, rrClusterID: n.rrClusterID, calicoNode: false, fromNode: true });
    }
    return out;
  };
  const nodesWithIpAndAs = (ip: string, as: number, port: number): NodeInfo[] =>
    nodes.filter((n) => (n.ipv4 === ip || n.ipv6 === ip) && (n.asNumber ?? globalAs) === as && (port === 0 || n.listenPort === 0 || n.listenPort === port));

  // --- explicit peerings, global pass first (updatePeersV1) ------------------------------
  const chosen = new Map<string, { type: PeerType; c: Candidate }>();
  const globalIps = new Set<string>();
  const emit = (type: PeerType, c: Candidate): void => {
    if (chosen.has(c.ip)) return;
    if (type === 'node specific' && globalIps.has(c.ip)) return;
    chosen.set(c.ip, { type, c });
    if (type === 'global') globalIps.add(c.ip);
  };
  const peers = [...s.bgpPeers].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  for (const globalPass of [true, false]) {
    for (const p of peers) {
      const spec = p.spec;
      const isGlobal = !spec.node && !spec.nodeSelector;
      if (globalPass !== isGlobal) continue;
      if (!spec.peerSelector && !spec.peerIP) continue; // localWorkloadSelector peerings are not supported
      if (!isGlobal) {
        const localNames = spec.nodeSelector ? select(spec.nodeSelector, `BGPPeer ${p.metadata.name} nodeSelector`).map((n) => n.name) : [spec.node as string];
        if (!localNames.includes(me.name)) continue;
      }
      for (const c of explicitCandidates(p)) emit(isGlobal ? 'global' : 'node specific', c);
    }
  }
  function explicitCandidates(p: BGPPeer): Candidate[] {
    const spec = p.spec;
    if (spec.peerSelector) {
      return select(spec.peerSelector, `BGPPeer ${p.metadata.name} peerSelector`).flatMap((n) => asCandidates(n, true, true).map((c) => ({ ...c, resource: p })));
    }
    const { host, port: givenPort } = splitPeerIP(spec.peerIP as string);
    const as = asNumberOf(spec.asNumber);
    if (!isIP(host) || as === undefined) {
      notes.push(`BGPPeer ${p.metadata.name}: unusable peerIP/asNumber`);
      return [];
    }
    let port = givenPort;
    if (port === 0) {
      const matches = nodesWithIpAndAs(host, as, 0);
      if (matches[0]) port = matches[0].listenPort;
    }
    return [{ ip: host, port, asNumber: as, rrClusterID: '', calicoNode: nodeIps.has(host), fromNode: false, resource: p }];
  }

  // --- reverse peerings ----------------------------------------------------------------
  for (const p of peers) {
    const spec = p.spec;
    if (spec.reversePeering === 'Manual') continue;
    let localNames: string[];
    let v4 = true;
    let v6 = true;
    if (spec.peerSelector) {
      localNames = select(spec.peerSelector, `BGPPeer ${p.metadata.name} peerSelector`).map((n) => n.name);
    } else if (spec.peerIP) {
      const { host, port } = splitPeerIP(spec.peerIP);
      const as = asNumberOf(spec.asNumber) ?? globalAs;
      localNames = nodesWithIpAndAs(host, as, port).map((n) => n.name);
      v4 = isIP(host) === 4;
      v6 = isIP(host) === 6;
    } else {
      continue;
    }
    if (!localNames.includes(me.name)) continue;
    const peerNodes = spec.nodeSelector
      ? select(spec.nodeSelector, `BGPPeer ${p.metadata.name} nodeSelector`)
      : spec.node
        ? nodes.filter((n) => n.name === spec.node)
        : nodes;
    for (const n of peerNodes) for (const c of asCandidates(n, v4, v6)) emit('node specific', { ...c, resource: p });
  }

  // --- the mesh (processMeshPeers) -----------------------------------------------------
  const meshEnabled = globalCfg.nodeToNodeMeshEnabled ?? true;
  const mesh: Candidate[] = [];
  if (meshEnabled && !me.rrClusterID) {
    for (const n of nodes) {
      if (n.name === me.name || n.rrClusterID) continue;
      for (const c of asCandidates(n, true, true)) mesh.push(c);
    }
  }

  // --- build entries (buildPeerFromData) -------------------------------------------------
  const out = new Map<string, PeerConfigEntry>();
  const build = (type: PeerType, c: Candidate): void => {
    const f: 4 | 6 = isIP(c.ip) === 6 ? 6 : 4;
    const mine = myIp(f);
    if (c.ip === mine) return; // ourselves
    if (out.has(c.ip)) return;
    if (!mine && c.fromNode) {
      notes.push(`no IPv${f} address on this node: skipping the IPv${f} peering with ${c.ip}`);
      return;
    }
    const spec = c.resource?.spec ?? {};
    const localAs = asNumberOf(spec.localASNumber);
    const effectiveLocalAs = localAs ?? myAs;
    const mesh = type === 'node-to-node mesh';
    const sourceMode = mesh ? 'UseNodeIP' : (spec.sourceAddress ?? 'UseNodeIP');
    const keepalive = mesh ? undefined : durationSeconds(spec.keepaliveTime);
    const restart = durationSeconds(mesh ? globalCfg.nodeMeshMaxRestartTime : spec.maxRestartTime);
    const secret = (mesh ? globalCfg.nodeMeshPassword : spec.password)?.secretKeyRef;
    let nextHopMode: PeerConfigEntry['nextHopMode'] = mesh ? 'Auto' : (spec.nextHopMode ?? 'Auto');
    if (!mesh && spec.keepOriginalNextHop && c.asNumber !== effectiveLocalAs) nextHopMode = 'Keep';
    const passive = (mesh || (type === 'global' && c.calicoNode)) && mine !== undefined && c.ip > mine;
    const family: Family = f === 4 ? 'ipv4-unicast' : 'ipv6-unicast';
    const entry: PeerConfigEntry = {
      name: `${PREFIX[type]}_${c.ip.replace(/[.:]/g, '_')}${c.port > 0 && !mesh ? `_port_${c.port}` : ''}`,
      peerIP: c.ip,
      port: c.port > 0 ? c.port : DEFAULT_LISTEN_PORT,
      asNumber: c.asNumber,
      ...(localAs !== undefined ? { localASNumber: localAs } : {}),
      passive,
      holdTime: defaults.holdTime,
      ...(keepalive !== undefined && keepalive >= 1 ? { keepaliveTime: Math.min(keepalive, 21845) } : defaults.keepaliveTime !== undefined ? { keepaliveTime: defaults.keepaliveTime } : {}),
      connectRetryTime: defaults.connectRetryTime,
      families: [family],
      ...(sourceMode === 'UseNodeIP' && mine ? { sourceAddress: mine } : {}),
      enabled: true,
      routeReflectorClient: !!me.rrClusterID && c.asNumber === effectiveLocalAs && c.rrClusterID !== me.rrClusterID,
      nextHopMode,
      // Calico's BGPPeer has no ADD-PATH setting (BIRD as Calico runs it sends one path).
      addPaths: 'off',
      filters: mesh ? [] : [...(spec.filters ?? [])],
      peerType: type,
      ...(restart !== undefined ? { maxRestartTime: Math.min(restart, 4095) } : {}),
      ...(!mesh && spec.ttlSecurity ? { ttlSecurity: spec.ttlSecurity } : {}),
      ...(secret ? { password: { secretName: secret.name, secretKey: secret.key } } : {}),
      ...(!mesh && spec.numAllowedLocalASNumbers ? { numAllowedLocalASNumbers: spec.numAllowedLocalASNumbers } : {}),
    };
    out.set(c.ip, entry);
  };
  for (const { type, c } of chosen.values()) if (type === 'global') build(type, c);
  for (const { type, c } of chosen.values()) if (type === 'node specific') build(type, c);
  for (const c of mesh) build('node-to-node mesh', c);

  return { local, peers: [...out.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)), notes };
}

function nodeInfo(n: NodeResource, listenPort: number): NodeInfo {
  const bgp = n.spec.bgp ?? {};
  const ipv4 = stripMask(bgp.ipv4Address);
  const ipv6 = stripMask(bgp.ipv6Address);
  const asNumber = asNumberOf(bgp.asNumber);
  return {
    name: n.metadata.name,
    labels: n.metadata.labels ?? {},
    ...(ipv4 && isIP(ipv4) === 4 ? { ipv4 } : {}),
    ...(ipv6 && isIP(ipv6) === 6 ? { ipv6 } : {}),
    ...(asNumber !== undefined ? { asNumber } : {}),
    rrClusterID: bgp.routeReflectorClusterID ?? '',
    listenPort,
  };
}

function findConfig(configs: readonly BGPConfiguration[], nodeName: string): BGPConfiguration | undefined {
  return configs.find((c) => c.metadata.name === `node.${nodeName}`);
}

/** "10.0.0.1", "10.0.0.1:1179", "fd00::1" or "[fd00::1]:1179" → host and port (0 = none). */
export function splitPeerIP(text: string): { host: string; port: number } {
  const v6 = /^\[([^\]]+)\]:(\d+)$/.exec(text);
  if (v6) return { host: v6[1] as string, port: Number(v6[2]) };
  const v4 = /^(\d+\.\d+\.\d+\.\d+):(\d+)$/.exec(text);
  if (v4) return { host: v4[1] as string, port: Number(v4[2]) };
  return { host: text, port: 0 };
}
