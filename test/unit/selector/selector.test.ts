import fc from 'fast-check';
import { parseSelector, SelectorError, SELECTOR_INVALID, NAMESPACE_LABEL } from '../../../src/selector';
import { isTartanError } from '../../../src/errors';

describe('selector evaluation (Calico documented operators)', () => {
  const labels = { app: 'web', tier: 'frontend', env: 'prod-eu', 'route-reflector': 'true', 'kubernetes.io/os': 'linux' };
  const cases: Array<[string, boolean]> = [
    ['all()', true],
    ['', true],
    ["app == 'web'", true],
    ['app == "db"', false],
    ["missing == 'x'", false],
    ["app != 'db'", true],
    ["app != 'web'", false],
    ["missing != 'x'", true], // absent label: != is the negation of ==
    ['has(app)', true],
    ['has(missing)', false],
    ['!has(missing)', true],
    ['!has(app)', false],
    ["tier in {'frontend', 'backend'}", true],
    ["tier in {'backend'}", false],
    ['tier in {}', false],
    ["missing in {'x'}", false],
    ["tier not in {'backend'}", true],
    ["tier not in {'frontend'}", false],
    ["missing not in {'x'}", true],
    ["env contains 'od-'", true],
    ["env contains 'xx'", false],
    ["missing contains ''", false],
    ["env starts with 'prod'", true],
    ["env starts with 'eu'", false],
    ["env ends with '-eu'", true],
    ["env ends with 'prod'", false],
    ["route-reflector == 'true'", true],
    ["kubernetes.io/os == 'linux'", true],
    ["app == 'web' && tier == 'frontend'", true],
    ["app == 'web' && tier == 'backend'", false],
    ["app == 'db' || tier == 'frontend'", true],
    ["app == 'db' || tier == 'backend'", false],
    ["!(app == 'db')", true],
    ['global()', true],
  ];
  test.each(cases)('%s → %s', (text, expected) => {
    expect(parseSelector(text).matches(labels)).toBe(expected);
  });

  it('global() is false for a namespaced label set', () => {
    expect(parseSelector('global()').matches({ [NAMESPACE_LABEL]: 'default' })).toBe(false);
  });

  it('a label named like a keyword is still a label', () => {
    expect(parseSelector("in == 'x' && has(not)").matches({ in: 'x', not: '' })).toBe(true);
  });
});

describe('precedence', () => {
  it('&& binds tighter than ||', () => {
    // a || (b && c)
    const s = parseSelector("a == '1' || b == '1' && c == '1'");
    expect(s.toString()).toBe('(a == "1" || (b == "1" && c == "1"))');
    expect(s.matches({ a: '1' })).toBe(true);
    expect(s.matches({ b: '1' })).toBe(false);
  });
  it('! binds tighter than &&', () => {
    const s = parseSelector("!has(a) && b == '1'");
    expect(s.toString()).toBe('(!has(a) && b == "1")');
    expect(s.matches({ a: 'x', b: '1' })).toBe(false);
    expect(s.matches({ b: '1' })).toBe(true);
  });
  it('parentheses override', () => {
    const s = parseSelector("(a == '1' || b == '1') && c == '1'");
    expect(s.matches({ a: '1' })).toBe(false);
    expect(s.matches({ a: '1', c: '1' })).toBe(true);
  });
  it('double negation', () => {
    expect(parseSelector('!!has(a)').matches({ a: '' })).toBe(true);
  });
});

describe('canonical text', () => {
  const cases: Array<[string, string]> = [
    ["k == 'v'", 'k == "v"'],
    ['  has( k ) ', 'has(k)'],
    ["k in {'a','b'}", 'k in {"a", "b"}'],
    ["k not in { 'a' }", 'k not in {"a"}'],
    ["a == 'x' && b == 'y' && c == 'z'", '(a == "x" && b == "y" && c == "z")'],
    ["k == 'say \"hi\"'", `k == 'say "hi"'`],
    ['all( )', 'all()'],
    ['', 'all()'],
    ["k starts with 'a' || k ends with 'b'", '(k starts with "a" || k ends with "b")'],
  ];
  test.each(cases)('%s → %s', (text, canonical) => {
    expect(parseSelector(text).toString()).toBe(canonical);
    expect(parseSelector(canonical).toString()).toBe(canonical);
  });

  it('round-trips random selectors with the same meaning', () => {
    const label = fc.constantFrom('a', 'b', 'app.io/x');
    const value = fc.constantFrom('1', '2', '');
    const leaf = fc.oneof(
      fc.tuple(label, value).map(([l, v]) => `${l} == '${v}'`),
      fc.tuple(label, value).map(([l, v]) => `${l} != "${v}"`),
      label.map((l) => `has(${l})`),
      fc.tuple(label, fc.array(value, { maxLength: 2 })).map(([l, vs]) => `${l} in {${vs.map((v) => `'${v}'`).join(',')}}`),
      fc.tuple(label, value).map(([l, v]) => `${l} starts with '${v}'`),
    );
    const expr = fc.letrec<{ e: string }>((tie) => ({
      e: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        leaf,
        tie('e').map((e) => `!(${e})`),
        fc.tuple(tie('e'), tie('e')).map(([x, y]) => `${x} && ${y}`),
        fc.tuple(tie('e'), tie('e')).map(([x, y]) => `(${x}) || ${y}`),
      ),
    })).e;
    const labelSet = fc.dictionary(label, value, { maxKeys: 3 });
    fc.assert(
      fc.property(expr, labelSet, (text, labels) => {
        const s = parseSelector(text);
        const again = parseSelector(s.toString());
        expect(again.toString()).toBe(s.toString());
        expect(again.matches(labels)).toBe(s.matches(labels));
      }),
    );
  });
});

describe('errors', () => {
  const cases: Array<[string, number, RegExp]> = [
    ["k == 'v", 5, /unterminated string/],
    ['k == v', 5, /expected a quoted string/],
    ['k', 1, /expected an operator/],
    ["k = 'v'", 2, /unexpected character "="/],
    ["k == 'v' &&", 11, /expected a label/],
    ["(k == 'v'", 9, /expected "\)"/],
    ["k == 'v')", 8, /unexpected "\)"/],
    ["k in {'a' 'b'}", 10, /expected "," or "}"/],
    ['has()', 4, /expected a label name/],
    ['foo()', 0, /unknown function foo/],
    ["k starts 'x'", 9, /expected "with"/],
    ["k not 'x'", 6, /expected "in"/],
    ["a == 'x' b == 'y'", 9, /unexpected "b"/],
    [`${'x'.repeat(513)} == 'v'`, 0, /longer than 512/],
  ];
  test.each(cases)('%s fails at %d', (text, pos, re) => {
    let caught: unknown;
    try {
      parseSelector(text);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(SelectorError);
    expect(isTartanError(caught, SELECTOR_INVALID)).toBe(true);
    const err = caught as SelectorError;
    expect(err.position).toBe(pos);
    expect(err.message).toMatch(re);
    expect(err.message).toContain(`at position ${pos}`);
  });

  it('never throws anything but SelectorError on random text', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...'ab =!&|(){},\'"inotsh'.split('')), maxLength: 30 }), (text) => {
        try {
          parseSelector(text);
        } catch (e) {
          expect(e).toBeInstanceOf(SelectorError);
        }
      }),
    );
  });
});
