/**
 * ADD, DEL and CHECK of the `tartan` plugin (and of `tartan-ipam` when
 * another plugin runs it as its IPAM), over injected parts: the dataplane
 * driver, the WorkloadEndpoint store and the address source. No process
 * state: main.ts builds the parts, tests can pass fakes.
 *
 * ADD: addresses (reused if the handle holds some: a repeated ADD) → veth
 * pair and container configuration (reused if it is this container's own) →
 * WorkloadEndpoint. Any failure after the addresses were taken undoes all of
 * it (endpoint, veth, addresses), so nothing half-made stays behind.
 *
 * DEL: veth → endpoint → addresses, in that order, so an address is never
 * free while an endpoint still routes it; everything already gone is
 * success; the endpoint is left alone if a newer sandbox of the pod owns it
 * (a late DEL of an old one). A step that fails stops DEL with an error, and
 * the runtime's retry picks up from there.
 */
import type { WorkloadEndpoint } from '../datastore';
import type { Logger } from '../util/log';
import type { CniArgs } from './args';
import type { NetConf } from './config';
import type { Dataplane } from './dataplane';
import { dataplaneProblems } from './dataplane';
import { buildWorkloadEndpoint, endpointMismatch } from './endpoint';
import { CNI_INCOMPATIBLE_VERSION, CNI_INVALID_CONFIG, CNI_UNKNOWN_CONTAINER, CniError, TARTAN_CNI_CHECK_FAILED, TARTAN_CNI_INTERFACE_EXISTS } from './errors';
import type { AddressSource } from './ipam';
import type { WorkloadIdentity } from './names';
import { addressOf, buildAddResult, buildIpamResult, parseResult, type CniResult } from './result';
import { supportsCheck } from './version';

export interface EndpointStore {
  get(namespace: string, name: string): Promise<WorkloadEndpoint | undefined>;
  apply(wep: WorkloadEndpoint): Promise<void>;
  /** Delete if still at `resourceVersion`; absent is fine. */
  delete(namespace: string, name: string, resourceVersion?: string): Promise<void>;
}

export interface PluginParts {
  dataplane: Dataplane;
  endpoints: EndpointStore;
  addresses: AddressSource;
  /** Does this network namespace path exist? */
  netnsExists: (path: string) => boolean;
  log: Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;
}

export async function cmdAdd(conf: NetConf, args: CniArgs, id: WorkloadIdentity, parts: PluginParts): Promise<CniResult> {
  const { log } = parts;
  if (!parts.netnsExists(args.netns)) throw new CniError(CNI_UNKNOWN_CONTAINER, `network namespace ${args.netns} does not exist`, 'CNI_NETNS names no file');
  const assigned = await parts.addresses.assign();
  log.info(`${assigned.fresh ? 'assigned' : 'reusing'} ${assigned.addresses.join(', ')} (handle ${id.handleId})`);
  try {
    const veth = await parts.dataplane.setup({
      netns: args.netns,
      ifname: args.ifname,
      hostVeth: id.hostVeth,
      mtu: conf.mtu,
      addresses: assigned.addresses,
      allowIpForwarding: conf.allowIpForwarding,
    });
    log.info(`${veth.created ? 'created' : 'reused'} veth ${id.hostVeth} ↔ ${args.ifname} (${veth.containerMac}) in ${args.netns}`);
    await parts.endpoints.apply(buildWorkloadEndpoint(id, assigned.addresses, veth.containerMac, conf.labels));
    log.info(`wrote WorkloadEndpoint ${id.namespace}/${id.wepName}`);
    const dns = conf.dns ?? assigned.dns;
    return buildAddResult({
      hostVeth: id.hostVeth,
      ifname: args.ifname,
      containerMac: veth.containerMac,
      netns: args.netns,
      addresses: assigned.addresses,
      ...(veth.gatewayV6 !== undefined ? { gatewayV6: veth.gatewayV6 } : {}),
      ...(dns !== undefined ? { dns } : {}),
    });
  } catch (e) {
    log.error(`ADD failed, undoing it: ${(e as Error).message}`);
    if (e instanceof CniError && e.cniCode === TARTAN_CNI_INTERFACE_EXISTS) {
      // Nothing of the container's was touched; its interface is not ours to delete.
      if (assigned.fresh) await parts.addresses.release().catch((r: Error) => log.error(`releasing the addresses failed: ${r.message}`));
      throw e;
    }
    try {
      await removeAttachment(args, id, parts);
    } catch (undo) {
      // The runtime follows a failed ADD with DEL, which retries this.
      log.error(`undoing the failed ADD did not finish: ${(undo as Error).message}`);
    }
    throw e;
  }
}

export async function cmdDel(_conf: NetConf, args: CniArgs, id: WorkloadIdentity, parts: PluginParts): Promise<void> {
  await removeAttachment(args, id, parts);
}

/** Veth, then endpoint, then addresses; each already-gone part is fine. */
async function removeAttachment(args: CniArgs, id: WorkloadIdentity, parts: PluginParts): Promise<void> {
  const { log } = parts;
  // The veth first: it needs no datastore, so it goes even while etcd is away.
  const inNetns = args.netns !== '' && parts.netnsExists(args.netns);
  if (inNetns && (await parts.dataplane.teardown(args.netns, args.ifname))) log.info(`deleted ${args.ifname} in ${args.netns} (and its peer ${id.hostVeth})`);
  const wep = await parts.endpoints.get(id.namespace, id.wepName);
  const ours = wep !== undefined && (wep.spec.containerID === undefined || wep.spec.containerID === id.containerId);
  if (!inNetns && ours && wep.spec.interfaceName) {
    // No namespace to enter: remove the host end the endpoint names (the pair goes with it).
    if (await parts.dataplane.removeHostLink(wep.spec.interfaceName)) log.info(`deleted host interface ${wep.spec.interfaceName}`);
  }
  if (wep && !ours) {
    log.info(`WorkloadEndpoint ${id.namespace}/${id.wepName} belongs to container ${wep.spec.containerID}; left alone`);
  } else if (wep) {
    await parts.endpoints.delete(id.namespace, id.wepName, wep.metadata.resourceVersion);
    log.info(`deleted WorkloadEndpoint ${id.namespace}/${id.wepName}`);
  }
  await parts.addresses.release();
  log.info(`released the addresses of handle ${id.handleId}`);
}

export async function cmdCheck(conf: NetConf, args: CniArgs, id: WorkloadIdentity, parts: PluginParts): Promise<void> {
  const prev = prevResultOf(conf);
  if (!parts.netnsExists(args.netns)) throw new CniError(CNI_UNKNOWN_CONTAINER, `network namespace ${args.netns} does not exist`);
  // The addresses ADD put on the container interface (by index; all of them if the result has no interfaces).
  const index = prev.interfaces?.findIndex((i) => i.name === args.ifname && (i.sandbox === undefined || i.sandbox === args.netns)) ?? -1;
  const addresses = prev.ips.filter((ip) => index < 0 || ip.interface === undefined || ip.interface === index).map((ip) => addressOf(ip.address));
  const problems: string[] = [];
  const hostName = prev.interfaces?.find((i) => i.sandbox === undefined)?.name;
  if (hostName !== undefined && hostName !== id.hostVeth) problems.push(`prevResult names host interface ${hostName}, expected ${id.hostVeth}`);
  const state = await parts.dataplane.inspect(args.netns, args.ifname, id.hostVeth);
  problems.push(...dataplaneProblems(state, { ifname: args.ifname, hostVeth: id.hostVeth, netns: args.netns, addresses }));
  const wep = await parts.endpoints.get(id.namespace, id.wepName);
  if (!wep) problems.push(`WorkloadEndpoint ${id.namespace}/${id.wepName} does not exist`);
  else {
    const why = endpointMismatch(wep, id, addresses);
    if (why) problems.push(`WorkloadEndpoint ${id.namespace}/${id.wepName} ${why}`);
  }
  const ipam = await parts.addresses.verify(addresses);
  if (ipam) problems.push(ipam);
  if (problems.length > 0) throw new CniError(TARTAN_CNI_CHECK_FAILED, `CHECK failed: ${problems.join('; ')}`, problems.join('\n'));
}

// ---- tartan-ipam, run by another plugin -----------------------------------

export async function ipamAdd(conf: NetConf, addresses: AddressSource): Promise<CniResult> {
  const got = await addresses.assign();
  return buildIpamResult(got.addresses, conf.dns);
}

export async function ipamDel(addresses: AddressSource): Promise<void> {
  await addresses.release();
}

export async function ipamCheck(conf: NetConf, addresses: AddressSource): Promise<void> {
  const prev = prevResultOf(conf);
  const why = await addresses.verify(prev.ips.map((ip) => addressOf(ip.address)));
  if (why) throw new CniError(TARTAN_CNI_CHECK_FAILED, `CHECK failed: ${why}`);
}

function prevResultOf(conf: NetConf): CniResult {
  if (!supportsCheck(conf.cniVersion)) throw new CniError(CNI_INCOMPATIBLE_VERSION, `CHECK needs cniVersion 0.4.0 or later, got ${conf.cniVersion}`);
  if (conf.prevResult === undefined) throw new CniError(CNI_INVALID_CONFIG, 'invalid network config: prevResult: is required for CHECK');
  return parseResult(conf.prevResult, 'prevResult');
}
