import { Cron, type CronOptions } from 'croner';

/**
 * Cron expressions as Rota reads them, with croner: 5 fields (minute precision) or 6
 * (seconds first); numbers, names (JAN-DEC, SUN-SAT), `*` and `?`, lists, ranges and
 * steps (every 15 minutes from 0 or from 5: `0/15`, `5/15`; over a range: `1-10/2`);
 * `L` (the last day of the month, or `5L`, the last Friday), `W` (`15W`, the weekday
 * nearest the 15th) and `#` (`FRI#2`). A day of month and a day of week combine with
 * OR, as in Vixie cron and InfluxDB; `+` before the day of week asks for AND.
 * docs/decisions/0013-lean-bundles.md records where this dialect and its DST rule
 * differ from cron-parser's, which Rota used before.
 */

interface CronField {
  readonly name: string;
  /** What one value of the field may be. */
  readonly takes: string;
  /** How many values the field has: its longest step. */
  readonly span: number;
}

/** The fields in 6-field order; a 5-field expression starts at the minute. */
const FIELDS: readonly CronField[] = [
  { name: 'second', takes: '0-59', span: 60 },
  { name: 'minute', takes: '0-59', span: 60 },
  { name: 'hour', takes: '0-23', span: 24 },
  { name: 'day-of-month', takes: '1-31, L or a day with W (15W)', span: 31 },
  { name: 'month', takes: '1-12 or JAN-DEC', span: 12 },
  {
    name: 'day-of-week',
    takes: '0-7 or SUN-SAT (0 and 7 are Sunday), a day with L (5L) or # (FRI#2)',
    span: 7,
  },
];

/** Every field but one left open, to find which field croner refuses. */
const OPEN_FIELDS = ['0', '*', '*', '*', '*', '*'];

function cronOptions(timezone: string): CronOptions {
  return {
    mode: '5-or-6-parts',
    // `5/15` (from 5, every 15) as cron-parser and Quartz read it, besides `*/15`.
    sloppyRanges: true,
    domAndDow: false,
    // Vixie cron's DST rule: a job with no `*` and no step in its time fields runs once
    // when the clock falls back, and right after a spring-forward gap that skips its
    // time; other jobs follow the clock, running both passes of a repeated hour and
    // skipping times that do not exist.
    fixedTimeRule: 'no-wildcard',
    // UTC never shifts: a fixed offset spares croner its Intl lookups, several times faster.
    ...(timezone === 'UTC' ? { utcOffset: 0 } : { timezone }),
  };
}

/**
 * A day-of-week step from a start (`1/6`) ends at 7, as cron-parser read it, so it still
 * reaches Sunday: croner alone would stop at 6 (Saturday).
 */
function stepsThroughSunday(dayOfWeek: string): string {
  return dayOfWeek
    .split(',')
    .map((item) => item.replace(/^(\d+|[A-Za-z]{3})\/(\d+)$/, '$1-7/$2'))
    .join(',');
}

function parses(pattern: string, timezone: string): boolean {
  try {
    new Cron(pattern, cronOptions(timezone));
    return true;
  } catch {
    return false;
  }
}

/** Why croner refused `fields`, naming the first field it refuses alone. */
function refusal(fields: readonly string[], timezone: string, cause: unknown): string {
  const six = fields.length === 5 ? ['0', ...fields] : fields;
  const index = six.findIndex((value, i) => !parses(OPEN_FIELDS.with(i, value).join(' '), timezone));
  const field = FIELDS[index];
  if (field) {
    return `${field.name} "${six[index]}" must be ${field.takes}, or *, a list, a range or a step (at most /${field.span}) of them`;
  }
  return (cause instanceof Error ? cause.message : String(cause)).replace(/^CronPattern: /, '');
}

export type CronReading = { readonly cron: Cron; readonly problem?: never } | { readonly problem: string };

/** Reads `expression` in `timezone`: the schedule, or what is wrong with it. */
export function readCron(expression: string, timezone: string): CronReading {
  const fields = expression.trim().split(/\s+/);
  if (fields.length !== 5 && fields.length !== 6) {
    return { problem: `expected 5 or 6 fields, got ${fields.length}` };
  }
  const pattern = [...fields.slice(0, -1), stepsThroughSunday(fields.at(-1) ?? '')].join(' ');
  try {
    return { cron: new Cron(pattern, cronOptions(timezone)) };
  } catch (cause) {
    return { problem: refusal(fields, timezone, cause) };
  }
}
