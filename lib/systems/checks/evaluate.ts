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
