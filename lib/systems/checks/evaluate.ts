import type { Level, Threshold } from './model';

/** Most severe first: a value that crosses CRIT and WARN thresholds is CRIT. */
const SEVERITY: Level[] = ['CRIT', 'WARN', 'INFO', 'OK'];

export function matches(threshold: Threshold, value: number): boolean {
  switch (threshold.type) {
    case 'greater':
      return value > threshold.value;
    case 'lesser':
      return value < threshold.value;
    case 'range': {
      const inside = value >= threshold.min && value <= threshold.max;
      return threshold.within ? inside : !inside;
    }
  }
}

/** The most severe level whose threshold the value crosses; OK when none does. */
export function levelFor(thresholds: readonly Threshold[], value: number): Level {
  for (const level of SEVERITY) {
    if (thresholds.some((t) => t.level === level && matches(t, value))) return level;
  }
  return 'OK';
}

/** A Flux series as a check reads it (lib/influx/flux-query.ts). */
export interface Series {
  key: string;
  points: readonly { time?: string | undefined; value: number }[];
}

/** What a check concluded from a query: the level, and the value that decided it. */
export interface SeriesVerdict {
  level: Level;
  value?: number | undefined;
  /** The series that decided the level, e.g. `_measurement=cpu,host=a`. */
  series?: string | undefined;
}

/**
 * InfluxDB's threshold semantics over a query's series: a threshold crosses on a series'
 * latest value, or, with `allValues`, only when every value in the window crosses. The
 * most severe level any series reaches wins.
 */
export function thresholdVerdict(thresholds: readonly Threshold[], series: readonly Series[]): SeriesVerdict {
  const crosses = (t: Threshold, s: Series) =>
    t.allValues
      ? s.points.every((p) => matches(t, p.value))
      : matches(t, s.points.at(-1)?.value ?? Number.NaN);
  const withValues = series.filter((s) => s.points.length > 0);
  for (const level of SEVERITY) {
    const hit = withValues.find((s) => thresholds.some((t) => t.level === level && crosses(t, s)));
    if (hit) return { level, value: hit.points.at(-1)?.value, series: hit.key };
  }
  const first = withValues[0];
  return first ? { level: 'OK', value: first.points.at(-1)?.value, series: first.key } : { level: 'UNKNOWN' };
}

export interface DeadmanRule {
  level: Level;
  timeSinceMs: number;
  staleTimeMs?: number | undefined;
  reportZero: boolean;
}

/**
 * InfluxDB's deadman semantics over a query's series: a series is dead when its latest
 * point is older than `timeSince` (or, with `reportZero`, when it reported only zeros
 * since then); one silent longer than `staleTime` is stale and reports nothing. With no
 * staleTime, an answer with no series at all means nothing reported: dead.
 */
export function deadmanVerdict(rule: DeadmanRule, series: readonly Series[], at: number): SeriesVerdict {
  const since = at - rule.timeSinceMs;
  const latest = (s: Series) => {
    const times = s.points.map((p) => (p.time ? Date.parse(p.time) : at)).filter(Number.isFinite);
    return times.length ? Math.max(...times) : undefined;
  };
  const live = series.filter((s) => {
    const last = latest(s);
    return last !== undefined && (rule.staleTimeMs === undefined || at - last <= rule.staleTimeMs);
  });
  if (live.length === 0) return { level: rule.staleTimeMs === undefined ? rule.level : 'UNKNOWN' };
  const dead = live.find((s) => {
    if ((latest(s) ?? at) < since) return true;
    const recent = s.points.filter((p) => (p.time ? Date.parse(p.time) : at) >= since);
    return rule.reportZero && recent.length > 0 && recent.every((p) => p.value === 0);
  });
  const decided = dead ?? live[0];
  return { level: dead ? rule.level : 'OK', value: decided?.points.at(-1)?.value, series: decided?.key };
}
