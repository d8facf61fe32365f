import { jittered } from '../../../src/bgp/session/clock';
import { TimerSet } from '../../../src/bgp/session/timers';
import { FakeClock } from './helpers';

describe('TimerSet', () => {
  it('restarting a timer discards the old deadline', () => {
    const clock = new FakeClock();
    const timers = new TimerSet<'hold'>(clock);
    const fired: number[] = [];
    timers.start('hold', 1000, () => fired.push(clock.now()));
    clock.advance(500);
    timers.start('hold', 1000, () => fired.push(clock.now()));
    clock.advance(999);
    expect(fired).toEqual([]);
    clock.advance(1);
    expect(fired).toHaveLength(1);
    expect(timers.isRunning('hold')).toBe(false);
  });

  it('restarts to a later deadline keep one armed timeout; an earlier deadline re-arms', () => {
    const clock = new FakeClock();
    const timers = new TimerSet<'hold'>(clock);
    const start = clock.now();
    const fired: number[] = [];
    timers.start('hold', 1000, () => fired.push(clock.now() - start));
    for (let i = 0; i < 100; i++) {
      clock.advance(10);
      timers.start('hold', 1000, () => fired.push(clock.now() - start));
    }
    // A hundred restarts (like a hold timer during a table load): still one timeout armed.
    expect(clock.pending).toBe(1);
    clock.advance(999);
    expect(fired).toEqual([]);
    clock.advance(1);
    expect(fired).toEqual([2000]);
    // An earlier deadline than the armed timeout's cannot wait for it.
    timers.start('hold', 1000, () => fired.push(clock.now() - start));
    timers.start('hold', 100, () => fired.push(clock.now() - start));
    clock.advance(100);
    expect(fired).toEqual([2000, 2100]);
    clock.advance(2000);
    expect(fired).toEqual([2000, 2100]);
    expect(clock.pending).toBe(0);
  });

  it('a stopped timer never fires', () => {
    const clock = new FakeClock();
    const timers = new TimerSet<'a' | 'b'>(clock);
    let fired = 0;
    timers.start('a', 10, () => fired++);
    timers.start('b', 10, () => fired++);
    timers.stopAll();
    clock.advance(100);
    expect(fired).toBe(0);
    expect(clock.pending).toBe(0);
  });
});

describe('jittered (RFC 4271 §10)', () => {
  it('stays within 0.75..1.0 of the interval', () => {
    expect(jittered(30_000, () => 0)).toBe(22_500);
    expect(jittered(30_000, () => 0.5)).toBe(26_250);
    expect(jittered(30_000, () => 1)).toBe(30_000);
  });
});
