/**
 * Policy half of the dataplane (Felix's iptables/ipset programming).
 *
 *   const dp = new PolicyDataplane({ config: { workloadIfacePrefix: 'cali' }, resyncIntervalMs: 180_000 });
 *   await dp.apply(input);   // render + program the difference
 *   dp.start();              // periodic read-back repairs tampering; dp.repairs counts fixes
 *
 * `renderDataplane` is the pure core (input → chains, hashes, ipsets).
 */
export * from './model';
export { DEFAULT_RENDER_CONFIG, renderConfig, FELIX_FAILSAFE_IN, FELIX_FAILSAFE_OUT } from './config';
export type { RenderConfig, EndpointToHostAction, PortProto } from './config';
export { renderDataplane, PolicyRenderer, type RenderOptions, type PolicyRendererOptions } from './render';
export { tableText, ruleLine } from './render/text';
export { RenderCache } from './render/cache';
export type * from './render/types';
export type { Selector, SelectorParser } from './render/selector-api';
export { PolicyDataplane, type PolicyDataplaneOptions, type ApplyReport, type TableReport, type PolicyCounters } from './apply/dataplane';
export { processRunner, type CommandRunner, type CommandResult } from './apply/exec';
export { detectBackend, type IptablesBackend } from './apply/backend';
export { planTable, type TablePlan } from './apply/plan';
export { parseSave, type ProgrammedTable } from './apply/saved';
