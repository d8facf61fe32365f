/**
 * Recursive-descent selector parser. Grammar (Calico precedence: `!` binds
 * tightest, then `&&`, then `||`):
 *
 *   selector := or EOF                      (empty text means all())
 *   or       := and ('||' and)*
 *   and      := unary ('&&' unary)*
 *   unary    := '!' unary | primary
 *   primary  := '(' or ')' | 'all' '(' ')' | 'global' '(' ')' | 'has' '(' label ')'
 *             | label ('==' | '!=') string
 *             | label ('contains' | 'starts' 'with' | 'ends' 'with') string
 *             | label ['not'] 'in' '{' [string (',' string)*] '}'
 *
 * Chains such as `a && b && c` become one n-ary node, as in Calico; explicit
 * parentheses are kept, so the canonical text re-parses to the same tree.
 */
import type { SelectorNode } from './ast';
import { SelectorError } from './errors';
import { tokenize, type Token } from './tokenizer';

export function parseSelectorText(text: string): SelectorNode {
  const p = new Parser(text, tokenize(text));
  if (p.peek().kind === 'eof') return { op: 'all' };
  const node = p.or();
  const t = p.peek();
  if (t.kind !== 'eof') p.fail(t, `unexpected ${describe(t)}`);
  return node;
}

class Parser {
  private i = 0;

  constructor(
    private readonly text: string,
    private readonly tokens: Token[],
  ) {}

  peek(offset = 0): Token {
    return this.tokens[Math.min(this.i + offset, this.tokens.length - 1)] as Token;
  }

  private next(): Token {
    const t = this.peek();
    if (t.kind !== 'eof') this.i++;
    return t;
  }

  fail(t: Token, problem: string): never {
    throw new SelectorError(this.text, t.pos, problem);
  }

  private isPunct(t: Token, text: string): boolean {
    return t.kind === 'punct' && t.text === text;
  }

  private expectPunct(text: string): void {
    const t = this.next();
    if (!this.isPunct(t, text)) this.fail(t, `expected "${text}", got ${describe(t)}`);
  }

  or(): SelectorNode {
    const operands = [this.and()];
    while (this.isPunct(this.peek(), '||')) {
      this.next();
      operands.push(this.and());
    }
    return operands.length === 1 ? (operands[0] as SelectorNode) : { op: '||', operands };
  }

  private and(): SelectorNode {
    const operands = [this.unary()];
    while (this.isPunct(this.peek(), '&&')) {
      this.next();
      operands.push(this.unary());
    }
    return operands.length === 1 ? (operands[0] as SelectorNode) : { op: '&&', operands };
  }

  private unary(): SelectorNode {
    if (this.isPunct(this.peek(), '!')) {
      this.next();
      return { op: '!', operand: this.unary() };
    }
    return this.primary();
  }

  private primary(): SelectorNode {
    const t = this.next();
    if (this.isPunct(t, '(')) {
      const inner = this.or();
      this.expectPunct(')');
      return inner;
    }
    if (t.kind !== 'word') return this.fail(t, `expected a label, "(", "!", has(), all() or global(), got ${describe(t)}`);
    if (this.isPunct(this.peek(), '(')) {
      if (t.text === 'all' || t.text === 'global') {
        this.next();
        this.expectPunct(')');
        return { op: t.text };
      }
      if (t.text === 'has') {
        this.next();
        const label = this.next();
        if (label.kind !== 'word') this.fail(label, `expected a label name in has(), got ${describe(label)}`);
        this.expectPunct(')');
        return { op: 'has', label: label.text };
      }
      this.fail(t, `unknown function ${t.text}()`);
    }
    return this.comparison(t.text);
  }

  private comparison(label: string): SelectorNode {
    const t = this.next();
    if (this.isPunct(t, '==') || this.isPunct(t, '!=')) {
      return { op: t.text as '==' | '!=', label, value: this.string() };
    }
    if (t.kind === 'word') {
      switch (t.text) {
        case 'contains':
          return { op: 'contains', label, value: this.string() };
        case 'starts':
        case 'ends':
          this.expectWord('with');
          return { op: t.text === 'starts' ? 'starts with' : 'ends with', label, value: this.string() };
        case 'in':
          return { op: 'in', label, values: this.set() };
        case 'not':
          this.expectWord('in');
          return { op: 'not in', label, values: this.set() };
      }
    }
    return this.fail(t, `expected an operator (==, !=, in, not in, contains, starts with, ends with) after label "${label}", got ${describe(t)}`);
  }

  private expectWord(word: string): void {
    const t = this.next();
    if (t.kind !== 'word' || t.text !== word) this.fail(t, `expected "${word}", got ${describe(t)}`);
  }

  private string(): string {
    const t = this.next();
    if (t.kind !== 'string') this.fail(t, `expected a quoted string, got ${describe(t)}`);
    return t.text;
  }

  private set(): string[] {
    this.expectPunct('{');
    const values: string[] = [];
    if (this.isPunct(this.peek(), '}')) {
      this.next();
      return values;
    }
    for (;;) {
      values.push(this.string());
      const t = this.next();
      if (this.isPunct(t, '}')) return values;
      if (!this.isPunct(t, ',')) this.fail(t, `expected "," or "}", got ${describe(t)}`);
    }
  }
}

function describe(t: Token): string {
  switch (t.kind) {
    case 'eof':
      return 'end of selector';
    case 'string':
      return `string ${JSON.stringify(t.text)}`;
    default:
      return `"${t.text}"`;
  }
}
