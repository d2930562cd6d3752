import * as z from 'zod';
import type { Overlap, RunStatus } from '../task/model';

/** What a runner knows about the run it executes. */
export interface RunRef {
  taskID: string;
  runID: string;
  scheduledFor: string;
  attempt: number;
}

export interface RunLogEntry {
  time: string;
  message: string;
}

/** Why a run exists: the scheduler, a user (manual, retry or backfill via the API), or the retry policy. */
export type RunKind = 'scheduled' | 'manual' | 'retry' | 'backfill';

export interface Run {
  id: string;
  taskID: string;
  status: RunStatus;
  kind: RunKind;
  scheduledFor: string;
  /** When the run is due: scheduledFor plus the task's offset. */
  runAt?: string | undefined;
  requestedAt?: string | undefined;
  startedAt?: string | undefined;
  finishedAt?: string | undefined;
  attempt: number;
  /** For retries: the run this one retries. */
  retryOf?: string | undefined;
  error?: string | undefined;
  log: RunLogEntry[];
  /** For a scheduled run stored before it started (a waiting one): the task revision that produced it. */
  revision?: number | undefined;
  /** How many times an executor claimed the run; more than 1 means it resumed after a crash. */
  claims?: number | undefined;
  cancelRequested?: boolean | undefined;
  /** A backfilled run's own overlap policy; other runs follow their task's. */
  overlap?: Overlap | undefined;
}

/** A run Rota has just accepted: scheduled, first attempt, nothing logged yet. */
export function acceptedRun(run: {
  id: string;
  taskID: string;
  kind: RunKind;
  scheduledFor: number;
  requestedAt: number;
}): Run {
  return {
    id: run.id,
    taskID: run.taskID,
    status: 'scheduled',
    kind: run.kind,
    scheduledFor: new Date(run.scheduledFor).toISOString(),
    requestedAt: new Date(run.requestedAt).toISOString(),
    attempt: 1,
    log: [],
  };
}

export const FINAL_STATUSES: readonly RunStatus[] = ['success', 'failed', 'canceled'];
export const isFinal = (status: RunStatus) => FINAL_STATUSES.includes(status);

/** The SQS message body. Everything else is read from the table, so messages stay tiny. */
export const runMessageSchema = z.object({
  taskID: z.string().min(1),
  runID: z.string().min(1),
  scheduledFor: z.iso.datetime(),
  kind: z.enum(['scheduled', 'manual', 'retry', 'backfill']),
  attempt: z.number().int().min(1).default(1),
  /** For scheduled runs: the task's schedule revision that produced them. */
  revision: z.number().int().optional(),
  /** How many times this run went back to the queue waiting for a concurrency slot. */
  waits: z.number().int().min(0).default(0),
  /**
   * Set on the one message that carries a waiting run around (see RunStore.wait): other
   * copies of a waiting run's message are dropped instead of multiplying.
   */
  waitToken: z.string().min(1).optional(),
});
export type RunMessage = z.infer<typeof runMessageSchema>;
