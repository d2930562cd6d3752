import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from '../../lib/schedule/duration';

describe('parseDuration', () => {
  it.each([
    ['10s', 10],
    ['1m', 60],
    ['1h30m', 5400],
    ['2d', 172_800],
    ['1w', 604_800],
    ['-5m', -300],
    ['1h0m5s', 3605],
  ])('parses %s as %i seconds', (text, seconds) => {
    expect(parseDuration(text)).toBe(seconds);
  });

  it.each(['', '10', 'ten seconds', '1.5h', '100ms', '5mo', '1y', 's', '--5m', '5m-'])(
    'refuses %j',
    (text) => {
      expect(() => parseDuration(text)).toThrow(/invalid duration/);
    },
  );

  it('refuses absurdly long durations', () => {
    expect(() => parseDuration('99999999w')).toThrow(/too long/);
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0s'],
    [10, '10s'],
    [5400, '1h30m'],
    [-300, '-5m'],
    [90_061, '1d1h1m1s'],
  ])('formats %i as %s', (seconds, text) => {
    expect(formatDuration(seconds)).toBe(text);
  });

  it('round-trips through parseDuration', () => {
    for (const seconds of [1, 59, 61, 3599, 86_401, 700_000]) {
      expect(parseDuration(formatDuration(seconds))).toBe(seconds);
    }
  });
});
