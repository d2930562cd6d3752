import { describe, expect, it } from 'vitest';
import { deadmanVerdict, type Series, thresholdVerdict } from '../../lib/systems/checks/evaluate';
import { withCheckWindow } from '../../lib/systems/checks/runner';

const series = (key: string, values: number[], times?: string[]): Series => ({
  key,
  points: values.map((value, i) => ({ value, time: times?.[i] })),
});

describe("a Flux check's verdict over a query's series", () => {
  const crit90 = { type: 'greater', value: 90, level: 'CRIT' } as const;

  it('grades the latest value of each series; the most severe series wins and names itself', () => {
    const verdict = thresholdVerdict(
      [crit90, { type: 'greater', value: 30, level: 'WARN' }],
      [series('host=b', [40, 45]), series('host=a', [50, 95])],
    );
    expect(verdict).toEqual({ level: 'CRIT', value: 95, series: 'host=a' });
  });

  it('with allValues, crosses only when every value in the window does', () => {
    const all = { ...crit90, allValues: true };
    expect(thresholdVerdict([all], [series('a', [50, 95])]).level).toBe('OK');
    expect(thresholdVerdict([all], [series('a', [91, 95])]).level).toBe('CRIT');
  });

  it('is UNKNOWN when the query answered no value at all', () => {
    expect(thresholdVerdict([crit90], [])).toEqual({ level: 'UNKNOWN' });
    expect(thresholdVerdict([crit90], [series('a', [])])).toEqual({ level: 'UNKNOWN' });
  });

  const at = Date.parse('2026-12-01T12:00:00Z');
  const t = (secondsAgo: number) => new Date(at - secondsAgo * 1000).toISOString();
  const rule = { level: 'CRIT', timeSinceMs: 90_000, reportZero: false } as const;

  it('a deadman series is dead once its latest point is older than timeSince', () => {
    expect(deadmanVerdict(rule, [series('a', [1], [t(91)])], at).level).toBe('CRIT');
    expect(deadmanVerdict(rule, [series('a', [1], [t(89)])], at).level).toBe('OK');
  });

  it('reportZero counts only zeros since timeSince as dead; older non-zeros do not save it', () => {
    const zeros = series('a', [5, 0, 0], [t(300), t(60), t(10)]);
    expect(deadmanVerdict({ ...rule, reportZero: true }, [zeros], at).level).toBe('CRIT');
    expect(deadmanVerdict(rule, [zeros], at).level).toBe('OK');
  });

  it('drops a series silent past staleTime; with no staleTime an empty answer is dead', () => {
    const silent = series('a', [1], [t(600)]);
    expect(deadmanVerdict({ ...rule, staleTimeMs: 300_000 }, [silent], at).level).toBe('UNKNOWN');
    expect(deadmanVerdict({ ...rule, staleTimeMs: 900_000 }, [silent], at).level).toBe('CRIT');
    expect(deadmanVerdict(rule, [], at).level).toBe('CRIT');
  });
});

describe("a check query's window", () => {
  const window = { start: '-5m', windowPeriod: '1m' };

  it("sets the UI's dashboard variables for a query that reads them", () => {
    const text = 'from(bucket: "b") |> range(start: v.timeRangeStart, stop: v.timeRangeStop)';
    expect(withCheckWindow(text, window)).toBe(
      `option v = {timeRangeStart: -5m, timeRangeStop: now(), windowPeriod: 1m}\n${text}`,
    );
  });

  it('leaves a query alone that reads none, or declares v itself', () => {
    const plain = 'from(bucket: "b") |> range(start: -1h)';
    expect(withCheckWindow(plain, window)).toBe(plain);
    const own = 'option v = {timeRangeStart: -1h}\nfrom(bucket: "b") |> range(start: v.timeRangeStart)';
    expect(withCheckWindow(own, window)).toBe(own);
  });
});
