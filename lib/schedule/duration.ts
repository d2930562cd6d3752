/**
 * Duration strings in the InfluxDB style: `10s`, `1h30m`, `2d`, `-5m`.
 * Rota schedules in whole seconds, so sub-second units are refused.
 */

const UNIT_SECONDS = { w: 604_800, d: 86_400, h: 3_600, m: 60, s: 1 } as const;
type Unit = keyof typeof UNIT_SECONDS;

const WHOLE = /^(-)?((?:\d+(?:w|d|h|m|s))+)$/;
const PART = /(\d+)(w|d|h|m|s)/g;

/** Largest duration we accept: ten years keeps every sum a safe integer. */
const MAX_SECONDS = 10 * 366 * 86_400;

export class DurationError extends Error {}

/** Parses a duration string into whole seconds (negative when prefixed with `-`). */
export function parseDuration(text: string): number {
  const match = WHOLE.exec(text.trim());
  if (!match) {
    throw new DurationError(
      `invalid duration "${text}": use whole numbers with units w, d, h, m or s, for example 10s or 1h30m`,
    );
  }
  let seconds = 0;
  for (const [, amount, unit] of (match[2] ?? '').matchAll(PART)) {
    seconds += Number(amount) * UNIT_SECONDS[unit as Unit];
  }
  if (seconds > MAX_SECONDS) throw new DurationError(`duration "${text}" is too long`);
  return match[1] ? -seconds : seconds;
}

/** Formats whole seconds canonically, largest units first: 5400 → `1h30m`. */
export function formatDuration(totalSeconds: number): string {
  if (totalSeconds === 0) return '0s';
  let rest = Math.abs(Math.trunc(totalSeconds));
  let out = totalSeconds < 0 ? '-' : '';
  for (const unit of ['w', 'd', 'h', 'm', 's'] as const) {
    const size = UNIT_SECONDS[unit];
    if (rest >= size) {
      out += `${Math.floor(rest / size)}${unit}`;
      rest %= size;
    }
  }
  return out;
}
