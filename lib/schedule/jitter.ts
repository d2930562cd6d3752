import { createHash } from 'node:crypto';

/**
 * A scheduled instant's jitter: a whole number of milliseconds in `[0, jitterMs)`,
 * taken from a hash of the task and the instant. Every process (the scheduler that
 * plans the run, the executor that records it, the API that lists upcoming runs)
 * derives the same value, across restarts and deploys, without storing it.
 */
export function jitterOf(taskID: string, scheduledFor: number, jitterMs: number): number {
  if (jitterMs < 1) return 0;
  const digest = createHash('sha256').update(`${taskID}@${scheduledFor}`).digest();
  // 48 bits: the modulo's bias is below 2^-30 for any jitter up to an hour.
  return digest.readUIntBE(0, 6) % Math.floor(jitterMs);
}
