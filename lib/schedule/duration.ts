import * as z from 'zod';

/**
 * Duration strings in the InfluxDB style: `10s`, `1h30m`, `2d`, `-5m`, and `500ms`
 * where a field allows sub-second precision. This is the one duration type: schedules,
 * timeouts, back-offs, probe deadlines and dead-man windows all parse here.
 */

const UNIT_MS = { w: 604_800_000, d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000, ms: 1 } as const;
export type DurationUnit = keyof typeof UNIT_MS;

/** Whole-second units: Rota schedules in whole seconds. */
const SECOND_UNITS: readonly DurationUnit[] = ['w', 'd', 'h', 'm', 's'];
const PART = /(\d+)(ms|w|d|h|m|s)/g;
const WHOLE = /^(-)?((?:\d+(?:ms|w|d|h|m|s))+)$/;

/** Largest duration we accept: ten years keeps every sum a safe integer. */
const MAX_MS = 10 * 366 * 86_400_000;

export class DurationError extends Error {}

export interface DurationGrammar {
  /** Units a field accepts. @default w, d, h, m and s */
  readonly units?: readonly DurationUnit[];
  /** At most one unit (`5s`, not `1m5s`). @default false */
  readonly single?: boolean;
  /** A leading `-`. @default true */
  readonly negative?: boolean;
}

const unitList = (units: readonly DurationUnit[]) =>
  units.length === 1 ? String(units[0]) : `${units.slice(0, -1).join(', ')} or ${units.at(-1)}`;

/** Parses a duration string into milliseconds under a field's grammar. */
export function parseDurationMs(text: string, grammar: DurationGrammar = {}): number {
  const units = grammar.units ?? SECOND_UNITS;
  const match = WHOLE.exec(text.trim());
  const parts = match ? [...(match[2] ?? '').matchAll(PART)] : [];
  const valid =
    match !== null &&
    (grammar.negative !== false || !match[1]) &&
    (!grammar.single || parts.length === 1) &&
    parts.every(([, , unit]) => units.includes(unit as DurationUnit));
  if (!valid) {
    throw new DurationError(
      `invalid duration "${text}": use whole numbers with units ${unitList(units)}, for example ${grammar.single ? '5s' : '10s or 1h30m'}`,
    );
  }
  let ms = 0;
  for (const [, amount, unit] of parts) ms += Number(amount) * UNIT_MS[unit as DurationUnit];
  if (ms > MAX_MS) throw new DurationError(`duration "${text}" is too long`);
  return match?.[1] ? -ms : ms;
}

/** Parses a duration string into whole seconds (negative when prefixed with `-`). */
export function parseDuration(text: string): number {
  return parseDurationMs(text) / 1000;
}

/** Formats whole seconds canonically, largest units first: 5400 → `1h30m`. */
export function formatDuration(totalSeconds: number): string {
  if (totalSeconds === 0) return '0s';
  let rest = Math.abs(Math.trunc(totalSeconds)) * 1000;
  let out = totalSeconds < 0 ? '-' : '';
  for (const unit of SECOND_UNITS) {
    const size = UNIT_MS[unit];
    if (rest >= size) {
      out += `${Math.floor(rest / size)}${unit}`;
      rest %= size;
    }
  }
  return out;
}

export interface DurationField extends DurationGrammar {
  /** Bounds the string's length before parsing. @default 64 */
  readonly maxLength?: number;
  /** Replaces the parse error's message, for fields whose wording clients already know. */
  readonly invalid?: string;
  /** Returns what is wrong with a parsed value (in ms), or undefined. */
  readonly check?: (ms: number) => string | undefined;
}

/** The zod schema of a duration field: the parse error or the check's message names the problem. */
export function durationSchema(field: DurationField = {}) {
  return z
    .string()
    .max(field.maxLength ?? 64)
    .superRefine((value, ctx) => {
      let ms: number;
      try {
        ms = parseDurationMs(value, field);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: field.invalid ?? (error as Error).message });
        return;
      }
      const problem = field.check?.(ms);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    });
}
