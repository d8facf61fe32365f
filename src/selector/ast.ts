/**
 * Selector syntax tree, its evaluation and its canonical text.
 *
 * Semantics follow libcalico-go `lib/selector/parser/ast.go`:
 * - `k == v`, `contains`, `starts with`, `ends with`, `in {..}` are false when
 *   the label is absent;
 * - `k != v` and `k not in {..}` are true when the label is absent (they are
 *   the negations of `==` / `in`);
 * - `all()` matches everything; `global()` matches only labels that carry no
 *   namespace (it is used in namespaced selectors to reach cluster-scoped
 *   resources; outside that context every label set is "global").
 *
 * The canonical text (Calico `String()`) double-quotes values, wraps every
 * `&&`/`||` group in parentheses and sorts nothing, so two selectors with the
 * same canonical text are the same selector.
 */

/** A label set: label name → value. */
export type Labels = Readonly<Record<string, string>>;

export type SelectorNode =
  | { readonly op: 'all' }
  | { readonly op: 'global' }
  | { readonly op: 'has'; readonly label: string }
  | { readonly op: '==' | '!=' | 'contains' | 'starts with' | 'ends with'; readonly label: string; readonly value: string }
  | { readonly op: 'in' | 'not in'; readonly label: string; readonly values: readonly string[] }
  | { readonly op: '!'; readonly operand: SelectorNode }
  | { readonly op: '&&' | '||'; readonly operands: readonly SelectorNode[] };

/**
 * Label that marks a namespaced label set in `global()` evaluation. Calico
 * injects `projectcalico.org/namespace` on namespaced endpoints; a label set
 * without it is global.
 */
export const NAMESPACE_LABEL = 'projectcalico.org/namespace';

/** Evaluate `node` against `labels` (pure). */
export function evaluate(node: SelectorNode, labels: Labels): boolean {
  switch (node.op) {
    case 'all':
      return true;
    case 'global':
      return !Object.prototype.hasOwnProperty.call(labels, NAMESPACE_LABEL);
    case 'has':
      return has(labels, node.label);
    case '==':
      return has(labels, node.label) && labels[node.label] === node.value;
    case '!=':
      return !has(labels, node.label) || labels[node.label] !== node.value;
    case 'contains':
      return has(labels, node.label) && (labels[node.label] as string).includes(node.value);
    case 'starts with':
      return has(labels, node.label) && (labels[node.label] as string).startsWith(node.value);
    case 'ends with':
      return has(labels, node.label) && (labels[node.label] as string).endsWith(node.value);
    case 'in':
      return has(labels, node.label) && node.values.includes(labels[node.label] as string);
    case 'not in':
      return !has(labels, node.label) || !node.values.includes(labels[node.label] as string);
    case '!':
      return !evaluate(node.operand, labels);
    case '&&':
      return node.operands.every((o) => evaluate(o, labels));
    case '||':
      return node.operands.some((o) => evaluate(o, labels));
  }
}

function has(labels: Labels, name: string): boolean {
  return Object.prototype.hasOwnProperty.call(labels, name);
}

/** Canonical text of `node`, after Calico's `String()`. */
export function render(node: SelectorNode): string {
  switch (node.op) {
    case 'all':
      return 'all()';
    case 'global':
      return 'global()';
    case 'has':
      return `has(${node.label})`;
    case '==':
    case '!=':
    case 'contains':
    case 'starts with':
    case 'ends with':
      return `${node.label} ${node.op} ${quote(node.value)}`;
    case 'in':
    case 'not in':
      return `${node.label} ${node.op} {${node.values.map(quote).join(', ')}}`;
    case '!':
      return `!${render(node.operand)}`;
    case '&&':
    case '||':
      return `(${node.operands.map(render).join(` ${node.op} `)})`;
  }
}

/** Values cannot contain escapes, so a value with `"` is written in single quotes. */
function quote(value: string): string {
  return value.includes('"') ? `'${value}'` : `"${value}"`;
}
