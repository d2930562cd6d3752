import { CronExpressionParser } from 'cron-parser';
import { parseDuration } from './duration';

/** The schedule part of a task, as stored. Exactly one of `every` or `cron`. */
export interface ScheduleSpec {
  every?: string | undefined;
  cron?: string | undefined;
  offset?: string | undefined;
  timezone?: string | undefined;
}

export class ScheduleError extends Error {}

export interface Schedule {
  /** Milliseconds between a scheduled instant and the moment it runs (`runAt = scheduledFor + offset`). */
  readonly offsetMs: number;
  /** The first scheduled instant strictly after `after` (epoch ms). */
  nextAfter(after: number): number;
  /** The last scheduled instant at or before `at`. */
  latestAtOrBefore(at: number): number;
  /**
   * Scheduled instants in `(after, until]`, oldest first, stopping after `max`.
   * One parse serves the whole walk, which matters for catch-up over many instants.
   */
  between(after: number, until: number, max: number): number[];
}

export function isValidTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** Validates a cron expression: 5 fields (minute precision) or 6 (with seconds first). */
export function validateCron(expression: string, timezone = 'UTC'): void {
  const fields = expression.trim().split(/\s+/);
  if (fields.length !== 5 && fields.length !== 6) {
    throw new ScheduleError(`invalid cron "${expression}": expected 5 or 6 fields, got ${fields.length}`);
  }
  try {
    CronExpressionParser.parse(expression, { tz: timezone, currentDate: new Date() }).next();
  } catch (cause) {
    throw new ScheduleError(`invalid cron "${expression}": ${(cause as Error).message}`);
  }
}

export function compileSchedule(spec: ScheduleSpec): Schedule {
  const offsetMs = spec.offset ? parseDuration(spec.offset) * 1000 : 0;
  if (spec.every !== undefined && spec.cron !== undefined) {
    throw new ScheduleError('a task takes either every or cron, not both');
  }
  if (spec.every !== undefined) return everySchedule(parseDuration(spec.every) * 1000, offsetMs);
  if (spec.cron !== undefined) return cronSchedule(spec.cron, spec.timezone ?? 'UTC', offsetMs);
  throw new ScheduleError('a task needs every or cron');
}

/** `every` aligns to multiples of the interval since the Unix epoch, as InfluxDB does. */
function everySchedule(intervalMs: number, offsetMs: number): Schedule {
  if (intervalMs < 1000) throw new ScheduleError('every must be at least 1s');
  const nextAfter = (after: number) => (Math.floor(after / intervalMs) + 1) * intervalMs;
  return {
    offsetMs,
    nextAfter,
    latestAtOrBefore: (at) => Math.floor(at / intervalMs) * intervalMs,
    between(after, until, max) {
      const out: number[] = [];
      for (let t = nextAfter(after); t <= until && out.length < max; t += intervalMs) out.push(t);
      return out;
    },
  };
}

function cronSchedule(expression: string, timezone: string, offsetMs: number): Schedule {
  validateCron(expression, timezone);
  const iterate = (after: number) =>
    CronExpressionParser.parse(expression, { tz: timezone, currentDate: new Date(after) });
  const between = (after: number, until: number, max: number) => {
    const out: number[] = [];
    const cron = iterate(after);
    while (out.length < max) {
      const next = cron.next().getTime();
      if (next > until) break;
      // The library resolves currentDate to the second; guard the strictly-after contract.
      if (next > after) out.push(next);
    }
    return out;
  };
  return {
    offsetMs,
    nextAfter(after) {
      const cron = iterate(after);
      for (;;) {
        const next = cron.next().getTime();
        if (next > after) return next;
      }
    },
    latestAtOrBefore(at) {
      // Start just past `at` so an instant exactly at `at` counts; the library works in whole seconds.
      const cron = iterate(at + 1000);
      for (;;) {
        const previous = cron.prev().getTime();
        if (previous <= at) return previous;
      }
    },
    between,
  };
}
