import { logLevelOf } from '../../../src/peering/cluster';

describe('BGPConfiguration logSeverityScreen', () => {
  it.each([
    ['Debug', 'debug'],
    ['Info', 'info'],
    ['Warning', 'warn'],
    ['Error', 'error'],
    ['Fatal', 'error'],
    ['None', 'error'],
    ['info', 'info'],
  ])('%s sets the log level to %s', (severity, level) => {
    expect(logLevelOf(severity)).toBe(level);
  });

  it('ignores values it does not know', () => {
    expect(logLevelOf('Loud')).toBeUndefined();
    expect(logLevelOf(undefined)).toBeUndefined();
  });
});
