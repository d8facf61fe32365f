import { Backoff } from '../../../src/bgp/session/backoff';

describe('Backoff (error wait)', () => {
  const opts = { minMs: 5000, maxMs: 60_000, forgetMs: 300_000 };

  it('starts at the minimum and doubles up to the maximum', () => {
    const b = new Backoff({ ...opts, random: () => 0 });
    const waits = [0, 1, 2, 3, 4, 5, 6].map((i) => b.onError(i * 1000));
    expect(waits).toEqual([5000, 10_000, 20_000, 40_000, 60_000, 60_000, 60_000]);
  });

  it('jitters upwards by at most 20%', () => {
    const b = new Backoff({ ...opts, random: () => 0.5 });
    expect(b.onError(0)).toBe(5500);
    expect(b.onError(1)).toBe(11_000);
  });

  it('forgets errors older than the forget time', () => {
    const b = new Backoff({ ...opts, random: () => 0 });
    b.onError(0);
    b.onError(1000);
    expect(b.pendingMs).toBe(20_000);
    expect(b.onError(1000 + 300_000)).toBe(20_000); // exactly the forget time: still remembered
    expect(b.onError(1000 + 300_000 + 300_001)).toBe(5000);
  });

  it('reset() goes back to the minimum', () => {
    const b = new Backoff({ ...opts, random: () => 0 });
    b.onError(0);
    b.onError(1);
    b.reset();
    expect(b.onError(2)).toBe(5000);
  });
});
