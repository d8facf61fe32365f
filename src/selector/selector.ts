import { evaluate, render, type Labels, type SelectorNode } from './ast';
import { parseSelectorText } from './parser';

/** A parsed selector: immutable, cheap to evaluate many times. */
export interface Selector {
  /** True when `labels` satisfy the selector. */
  matches(labels: Labels): boolean;
  /** Canonical text (Calico `String()` form); parses back to an equal selector. */
  toString(): string;
  /** The syntax tree, for consumers that inspect selectors (e.g. policy indexing). */
  readonly root: SelectorNode;
}

class ParsedSelector implements Selector {
  private readonly text: string;

  constructor(readonly root: SelectorNode) {
    this.text = render(root);
  }

  matches(labels: Labels): boolean {
    return evaluate(this.root, labels);
  }

  toString(): string {
    return this.text;
  }
}

/**
 * Parse Calico selector text. Throws SelectorError (code SELECTOR_INVALID)
 * naming the character position of the first problem. An empty selector is
 * `all()`, as in Calico.
 */
export function parseSelector(text: string): Selector {
  return new ParsedSelector(parseSelectorText(text));
}

/** The selector that matches everything. */
export const ALL: Selector = new ParsedSelector({ op: 'all' });
