/**
 * The selector language is implemented elsewhere (src/selector, Calico's
 * selector grammar). The renderer only needs this much of it, and takes the
 * parser as a parameter so it stays pure and independent of that module.
 */
export interface Selector {
  matches(labels: Record<string, string>): boolean;
  /** Canonical text: equal selectors print equally (used in set ids). */
  toString(): string;
}

/** Throws TartanError code SELECTOR_INVALID on a bad selector. */
export type SelectorParser = (text: string) => Selector;
