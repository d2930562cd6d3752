import type { Cron } from 'croner';
import { readCron } from './cron';
import { parseDuration } from './duration';
import { jitterOf } from './jitter';

/** The schedule part of a task, as stored. Exactly one of `every` or `cron`. */
export interface ScheduleSpec {
  every?: string | undefined;
  cron?: string | undefined;
  offset?: string | undefined;
  timezone?: string | undefined;
  /** Spreads each instant's run over `[0, jitter)` after `scheduledFor + offset`. */
  jitter?: string | undefined;
  /** No instant before this one runs (RFC3339). */
  startAt?: string | undefined;
  /** No instant after this one runs (RFC3339). */
  endAt?: string | undefined;
}

export class ScheduleError extends Error {}

export interface Schedule {
  /** Milliseconds between a scheduled instant and the moment it runs (`runAt = scheduledFor + offset`). */
  readonly offsetMs: number;
  /** The jitter's upper bound (exclusive), in ms; 0 without one. */
  readonly jitterMs: number;
  /** The first instant that may run (epoch ms); -Infinity without `startAt`. */
  readonly startMs: number;
  /** The last instant that may run (epoch ms); Infinity without `endAt`. */
  readonly endMs: number;
  /** When a scheduled instant of task `taskID` runs: `scheduledFor + offset + jitter`. */
  runAt(taskID: string, scheduledFor: number): number;
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

/** Reads a cron expression in `timezone`, or throws what is wrong with it (lib/schedule/cron.ts). */
function parseCron(expression: string, timezone: string): Cron {
  const reading = readCron(expression, timezone);
  if (reading.problem !== undefined) {
    throw new ScheduleError(`invalid cron "${expression}": ${reading.problem}`);
  }
  return reading.cron;
}

/** Validates a cron expression: 5 fields (minute precision) or 6 (with seconds first), matching some date. */
export function validateCron(expression: string, timezone = 'UTC'): void {
  // Well formed is not enough: `0 0 30 2 *` (February 30th) would never run.
  if (parseCron(expression, timezone).nextRun(new Date()) === null) {
    throw new ScheduleError(`invalid cron "${expression}": it matches no date`);
  }
}

/** The parts of a Schedule that do not depend on the kind of schedule. */
type Timing = Pick<Schedule, 'offsetMs' | 'jitterMs' | 'startMs' | 'endMs' | 'runAt'>;
type Instants = Omit<Schedule, keyof Timing>;

function timingOf(spec: ScheduleSpec): Timing {
  const offsetMs = spec.offset ? parseDuration(spec.offset) * 1000 : 0;
  const jitterMs = spec.jitter ? parseDuration(spec.jitter) * 1000 : 0;
  return {
    offsetMs,
    jitterMs,
    startMs: spec.startAt ? Date.parse(spec.startAt) : Number.NEGATIVE_INFINITY,
    endMs: spec.endAt ? Date.parse(spec.endAt) : Number.POSITIVE_INFINITY,
    runAt: (taskID, scheduledFor) => scheduledFor + offsetMs + jitterOf(taskID, scheduledFor, jitterMs),
  };
}

export function compileSchedule(spec: ScheduleSpec): Schedule {
  if (spec.every !== undefined && spec.cron !== undefined) {
    throw new ScheduleError('a task takes either every or cron, not both');
  }
  const timing = timingOf(spec);
  if (spec.every !== undefined) return { ...timing, ...everySchedule(parseDuration(spec.every) * 1000) };
  if (spec.cron !== undefined) return { ...timing, ...cronSchedule(spec.cron, spec.timezone ?? 'UTC') };
  throw new ScheduleError('a task needs every or cron');
}

/** `every` aligns to multiples of the interval since the Unix epoch, as InfluxDB does. */
function everySchedule(intervalMs: number): Instants {
  if (intervalMs < 1000) throw new ScheduleError('every must be at least 1s');
  const nextAfter = (after: number) => (Math.floor(after / intervalMs) + 1) * intervalMs;
  return {
    nextAfter,
    latestAtOrBefore: (at) => Math.floor(at / intervalMs) * intervalMs,
    between(after, until, max) {
      const out: number[] = [];
      for (let t = nextAfter(after); t <= until && out.length < max; t += intervalMs) out.push(t);
      return out;
    },
  };
}

function cronSchedule(expression: string, timezone: string): Instants {
  const cron = parseCron(expression, timezone);
  const instantOf = (instant: Date | null | undefined) => {
    if (!instant) throw new ScheduleError(`cron "${expression}" has no instant left to run`);
    return instant.getTime();
  };
  return {
    nextAfter: (after) => instantOf(cron.nextRun(new Date(after))),
    // A run exactly at `at` counts: croner looks strictly before its reference.
    latestAtOrBefore: (at) => instantOf(cron.previousRuns(1, new Date(at + 1))[0]),
    between(after, until, max) {
      const out: number[] = [];
      const instants = cron.enumerate(new Date(after));
      // croner works in whole seconds; the guard keeps "strictly after" exact to the millisecond.
      while (out.length < max) {
        const { value, done } = instants.next();
        if (done || value.getTime() > until) break;
        if (value.getTime() > after) out.push(value.getTime());
      }
      return out;
    },
  };
}
