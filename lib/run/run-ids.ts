import { createHash } from 'node:crypto';
import { decodeTime, encodeTime, ulid } from 'ulid';

/**
 * Run IDs are ULIDs whose time part is the run's scheduledFor, so run keys sort by
 * scheduled time and a time range is a key range. Scheduled and policy-retry runs
 * take their random part from a hash, so the same instant always gets the same ID:
 * duplicate ticks and redeliveries collapse onto one run item.
 */
export function deterministicRunID(scheduledFor: number, ...parts: string[]): string {
  const digest = createHash('sha256').update(parts.join('|')).digest();
  let i = 0;
  const prng = () => (digest[i++ % digest.length] ?? 0) / 256;
  return ulid(scheduledFor, prng).toLowerCase();
}

export const scheduledRunID = (taskID: string, scheduledFor: number) =>
  deterministicRunID(scheduledFor, 'scheduled', taskID, String(scheduledFor));

export const policyRetryRunID = (originRunID: string, scheduledFor: number, attempt: number) =>
  deterministicRunID(scheduledFor, 'retry', originRunID, String(attempt));

/** Manual runs and API retries are new runs each time. */
export const freshRunID = (scheduledFor: number) => ulid(scheduledFor).toLowerCase();

/** The smallest and largest run-ID prefixes for a scheduledFor range (inclusive). */
export const runIDLowerBound = (time: number) => encodeTime(Math.max(0, time), 10).toLowerCase();
export const runIDUpperBound = (time: number) => `${encodeTime(Math.max(0, time), 10).toLowerCase()}~`;

export const scheduledForOf = (runID: string) => decodeTime(runID.toUpperCase());
