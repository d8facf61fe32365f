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
