/**
 * Renderer options. Defaults follow Felix (felix/config/config_params.go,
 * felix/rules/rule_defs.go) with Tartan's own name prefixes, so that Tartan
 * only ever recognises and touches chains, rules and sets it created.
 */
export type EndpointToHostAction = 'ACCEPT' | 'DROP' | 'RETURN';

export interface PortProto {
  protocol: 'tcp' | 'udp';
  port: number;
}

export interface RenderConfig {
  /** Workload interface prefix (Felix InterfacePrefix, `cali`). */
  workloadIfacePrefix: string;
  /** Prefix of top-level chains hooked from the kernel chains (`cali-` in Felix). */
  topChainPrefix: string;
  /** Prefix of every other chain (`cali-` in Felix). */
  chainPrefix: string;
  /** ipset name prefix: `<prefix>4-` / `<prefix>6-` (`cali4` `0` in Felix). */
  ipsetPrefix: string;
  /** Prefix of hash comments, `<prefix><16 chars>` (`cali:` in Felix). */
  commentPrefix: string;
  /** Mark bits (Felix IptablesMarkMask 0xffff0000: accept 0x10000, pass 0x20000). */
  markAccept: number;
  markPass: number;
  /** What happens to workload → host traffic once egress policy accepted it (Felix DefaultEndpointToHostAction; the Calico manifests use ACCEPT). */
  endpointToHostAction: EndpointToHostAction;
  failsafeInbound: PortProto[];
  failsafeOutbound: PortProto[];
  logPrefix: string;
}

/** Felix FailsafeInboundHostPorts / FailsafeOutboundHostPorts defaults. */
export const FELIX_FAILSAFE_IN: PortProto[] = [
  { protocol: 'tcp', port: 22 },
  { protocol: 'udp', port: 68 },
  { protocol: 'tcp', port: 179 },
  { protocol: 'tcp', port: 2379 },
  { protocol: 'tcp', port: 2380 },
  { protocol: 'tcp', port: 5473 },
  { protocol: 'tcp', port: 6443 },
  { protocol: 'tcp', port: 6666 },
  { protocol: 'tcp', port: 6667 },
];
export const FELIX_FAILSAFE_OUT: PortProto[] = [
  { protocol: 'udp', port: 53 },
  { protocol: 'udp', port: 67 },
  { protocol: 'tcp', port: 179 },
  { protocol: 'tcp', port: 2379 },
  { protocol: 'tcp', port: 2380 },
  { protocol: 'tcp', port: 5473 },
  { protocol: 'tcp', port: 6443 },
  { protocol: 'tcp', port: 6666 },
  { protocol: 'tcp', port: 6667 },
];

export const DEFAULT_RENDER_CONFIG: RenderConfig = {
  workloadIfacePrefix: 'cali',
  topChainPrefix: 'tartan-',
  chainPrefix: 'ttn-',
  ipsetPrefix: 'ttn',
  commentPrefix: 'ttn:',
  markAccept: 0x10000,
  markPass: 0x20000,
  endpointToHostAction: 'ACCEPT',
  failsafeInbound: FELIX_FAILSAFE_IN,
  failsafeOutbound: FELIX_FAILSAFE_OUT,
  logPrefix: 'tartan-packet: ',
};

export function renderConfig(overrides: Partial<RenderConfig> = {}): RenderConfig {
  return { ...DEFAULT_RENDER_CONFIG, ...overrides };
}
