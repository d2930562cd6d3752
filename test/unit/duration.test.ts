import { describe, expect, it } from 'vitest';
import { durationSchema, formatDuration, parseDuration, parseDurationMs } from '../../lib/schedule/duration';

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

describe('one duration grammar for every field', () => {
  it('parses sub-second units only where a field allows them', () => {
    expect(parseDurationMs('500ms', { units: ['ms', 's'], single: true })).toBe(500);
    expect(parseDurationMs('5s', { units: ['ms', 's'], single: true })).toBe(5000);
    expect(parseDurationMs('1h30m')).toBe(5_400_000);
    expect(() => parseDurationMs('1s500ms', { units: ['ms', 's'], single: true })).toThrow(
      /invalid duration/,
    );
    expect(() => parseDurationMs('1m', { units: ['ms', 's'], single: true })).toThrow(/units ms or s/);
    expect(() => parseDurationMs('-5s', { negative: false })).toThrow(/invalid duration/);
  });

  it('validates a field with zod, naming the problem', () => {
    const probeTimeout = durationSchema({ units: ['ms', 's'], single: true, invalid: 'must be 5s or 500ms' });
    expect(probeTimeout.safeParse('250ms').success).toBe(true);
    expect(probeTimeout.safeParse('5m').error?.issues[0]?.message).toBe('must be 5s or 500ms');
    const bounded = durationSchema({ check: (ms) => (ms > 60_000 ? 'must be at most 1m' : undefined) });
    expect(bounded.safeParse('2m').error?.issues[0]?.message).toBe('must be at most 1m');
    expect(bounded.safeParse('59s').success).toBe(true);
  });
});
