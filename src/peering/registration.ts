/**
 * Node registration (calico-node startup, `node/pkg/lifecycle/startup`):
 * create this node's Node resource or bring its BGP addresses and AS up to
 * date, keeping everything an operator set (labels, routeReflectorClusterID,
 * other spec fields). `registeredNode` is the pure part.
 */
import { API_VERSION, Datastore, DatastoreError, RESOURCE_CONFLICT, RESOURCE_EXISTS, RESOURCE_NOT_FOUND, type NodeResource } from '../datastore';
import { isTartanError } from '../errors';

export interface NodeIdentity {
  name: string;
  /** CIDR form, e.g. "198.18.1.2/24"; undefined = the node has no IPv4 BGP address. */
  ipv4Address?: string;
  ipv6Address?: string;
  /** Set only when the node config names an AS; otherwise the node inherits the global one. */
  asNumber?: number;
}

/** The Node resource as it should be after registration (undefined: already so). */
export function registeredNode(existing: NodeResource | undefined, want: NodeIdentity): NodeResource | undefined {
  const base: NodeResource = existing ?? { apiVersion: API_VERSION, kind: 'Node', metadata: { name: want.name }, spec: {} };
  const bgp = { ...(base.spec.bgp ?? {}) };
  if (want.ipv4Address) bgp.ipv4Address = want.ipv4Address;
  else delete bgp.ipv4Address;
  if (want.ipv6Address) bgp.ipv6Address = want.ipv6Address;
  else delete bgp.ipv6Address;
  if (want.asNumber !== undefined) bgp.asNumber = want.asNumber;
  const next: NodeResource = { ...base, spec: { ...base.spec, bgp } };
  if (existing && JSON.stringify(existing.spec) === JSON.stringify(next.spec)) return undefined;
  return next;
}

/** Create or update the Node; retries lost compare-and-swap races. Returns the stored Node. */
export async function registerNode(ds: Datastore, want: NodeIdentity): Promise<NodeResource> {
  for (let attempt = 0; attempt < 10; attempt++) {
    let existing: NodeResource | undefined;
    try {
      existing = await ds.get('Node', want.name);
    } catch (e) {
      if (!isTartanError(e, RESOURCE_NOT_FOUND)) throw e;
    }
    const next = registeredNode(existing, want);
    if (!next) return existing as NodeResource;
    try {
      return existing ? await ds.update(next) : await ds.create(next);
    } catch (e) {
      // Someone else wrote it meanwhile (an operator labelling the node): read again.
      if (isTartanError(e, RESOURCE_CONFLICT) || isTartanError(e, RESOURCE_EXISTS)) continue;
      throw e;
    }
  }
  throw new DatastoreError(RESOURCE_CONFLICT, `Node "${want.name}" kept changing while registering it`);
}
