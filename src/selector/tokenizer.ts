/**
 * Selector tokenizer (after libcalico-go `lib/selector/tokenizer/tokenizer.go`).
 *
 * Words are label names or keywords; which one a word is depends on where it
 * stands, so that is the parser's call. A label name is made of
 * `[A-Za-z0-9_./-]` (a Kubernetes label key with its optional DNS prefix) and
 * is at most 512 characters long, as in Calico.
 */
import { SelectorError } from './errors';

export type Token =
  | { kind: 'word'; text: string; pos: number }
  | { kind: 'string'; text: string; pos: number }
  | { kind: 'punct'; text: '(' | ')' | '{' | '}' | ',' | '&&' | '||' | '==' | '!=' | '!'; pos: number }
  | { kind: 'eof'; text: ''; pos: number };

export const MAX_LABEL_LENGTH = 512;

const WORD_CHAR = /[A-Za-z0-9_./-]/;
const TWO_CHAR = ['&&', '||', '==', '!='] as const;
const ONE_CHAR = ['(', ')', '{', '}', ',', '!'] as const;

/** Split `text` into tokens; throws SelectorError at the first bad character. */
export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const two = text.slice(i, i + 2);
    const twoTok = TWO_CHAR.find((t) => t === two);
    if (twoTok) {
      tokens.push({ kind: 'punct', text: twoTok, pos: i });
      i += 2;
      continue;
    }
    const oneTok = ONE_CHAR.find((t) => t === c);
    if (oneTok) {
      tokens.push({ kind: 'punct', text: oneTok, pos: i });
      i++;
      continue;
    }
    if (c === '"' || c === "'") {
      // No escapes inside quotes (Calico has none either): a value holding
      // one kind of quote is written with the other.
      const end = text.indexOf(c, i + 1);
      if (end < 0) throw new SelectorError(text, i, 'unterminated string');
      tokens.push({ kind: 'string', text: text.slice(i + 1, end), pos: i });
      i = end + 1;
      continue;
    }
    if (WORD_CHAR.test(c)) {
      let j = i;
      while (j < text.length && WORD_CHAR.test(text[j] as string)) j++;
      const word = text.slice(i, j);
      if (word.length > MAX_LABEL_LENGTH) {
        throw new SelectorError(text, i, `label longer than ${MAX_LABEL_LENGTH} characters`);
      }
      tokens.push({ kind: 'word', text: word, pos: i });
      i = j;
      continue;
    }
    throw new SelectorError(text, i, `unexpected character ${JSON.stringify(c)}`);
  }
  tokens.push({ kind: 'eof', text: '', pos: text.length });
  return tokens;
}
