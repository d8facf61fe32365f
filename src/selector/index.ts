/**
 * Calico label selectors: one parser and evaluator shared by BGP peering
 * (`nodeSelector`, `peerSelector`), IPAM (IPPool `nodeSelector`) and policy.
 *
 * - tokenizer.ts  text → tokens (Calico `tokenizer.go`)
 * - parser.ts     tokens → syntax tree, with Calico's precedence (! > && > ||)
 * - ast.ts        the tree, its evaluation and canonical text (Calico `ast.go`)
 * - selector.ts   the `Selector` object handed to callers
 */
export { parseSelector, ALL, type Selector } from './selector';
export type { Labels, SelectorNode } from './ast';
export { NAMESPACE_LABEL } from './ast';
export { SelectorError, SELECTOR_INVALID } from './errors';
