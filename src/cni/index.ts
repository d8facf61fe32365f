/**
 * The `tartan` CNI plugin (Calico's `calico` + `calico-ipam`, for Tartan).
 *
 * - args.ts       CNI_* variables and CNI_ARGS (pure)
 * - config.ts     the network configuration, every bad field named by its path (pure)
 * - names.ts      veth, WorkloadEndpoint and IPAM handle names, as Calico computes them (pure)
 * - result.ts     CNI results in and out, per spec version (pure)
 * - endpoint.ts   the WorkloadEndpoint of an attachment (pure)
 * - errors.ts     CNI error codes and the one mapping from thrown errors to the error object
 * - dataplane.ts  veth, addresses, routes and neighbour with iproute2 (thin driver + pure builders)
 * - ipam.ts       addresses from Tartan's IPAM, or from a delegated IPAM plugin
 * - plugin.ts     ADD / DEL / CHECK over those parts
 * - run.ts        one invocation: env + stdin → stdout + exit code; main.ts is the executable
 */
export { parseArgs, parseCniArgs, interfaceNameProblem, type CniArgs, type CniCommand } from './args';
export { parseNetConf, decodeConfig, roleOf, PLUGIN_TYPE, IPAM_TYPE, type NetConf, type Role } from './config';
export { hostVethName, workloadEndpointName, escapeNamePart, handleId, workloadIdentity, type WorkloadIdentity } from './names';
export { buildAddResult, buildIpamResult, formatResult, parseResult, HOST_MAC, GATEWAY_V4, type CniResult } from './result';
export { buildWorkloadEndpoint, endpointMismatch } from './endpoint';
export * from './errors';
export { SUPPORTED_VERSIONS, versionResult } from './version';
export { runCni, resolveNodename, type RunIo, type RunOutcome } from './run';
