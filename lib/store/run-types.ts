import type { Run, RunLogEntry } from '../run/model';
import type { RunStatus } from '../task/model';
import type { RunState } from './run-items';

/** The requests and answers of the run store (`RunStore`). */

export interface ClaimRequest {
  taskID: string;
  runID: string;
  token: string;
  now: number;
  claimTtlMs: number;
  /** Written when the claim creates the item (scheduled runs are materialised at start). */
  seed: Pick<Run, 'kind' | 'scheduledFor' | 'runAt' | 'attempt'>;
  /**
   * For a run in the open index: when it counts as stalled once started (start + timeout
   * + grace). Absent for a plain scheduled run, whose claim writes nothing more.
   */
  stallAt?: number | undefined;
  /**
   * The run leaves the open index instead (a run that waited for a slot): from its claim
   * on, the message it was woken with carries it, as a plain scheduled run's does.
   */
  leaveOpenIndex?: boolean | undefined;
}

/** A claim that held tells how often the run has been claimed (more than once: it is resumed). */
export type ClaimResult =
  | { claimed: true; claims: number; resumed: boolean }
  | { claimed: false; state: RunState | undefined };

export interface FinishRequest {
  status: Extract<RunStatus, 'success' | 'failed' | 'canceled'>;
  finishedAt: string;
  log: RunLogEntry[];
  error?: string | undefined;
}

export interface WaitRequest {
  taskID: string;
  runID: string;
  seed: ClaimRequest['seed'];
  /** The schedule revision of a scheduled run, kept so a later delivery can drop a stale one. */
  revision?: number | undefined;
  now: number;
  /** When the run counts as stalled if its message does not come back. */
  openAt: number;
  /** Identifies the one message that carries the waiting run from now on. */
  waitToken: string;
  /** The token of the message doing this; a copy without the current token is refused. */
  expectedToken?: string | undefined;
  /** Appended to the run's log (the first wait says why). */
  logLine?: string | undefined;
}

/** An entry of the open index: what the reconciler needs to deliver the run again. */
export interface OpenRun {
  taskID: string;
  runID: string;
  status: RunStatus;
  kind: Run['kind'];
  scheduledFor: string;
  attempt: number;
  revision?: number | undefined;
  openAt: number;
}

export interface ListRunsQuery {
  after?: string | undefined;
  limit: number;
  afterTime?: number | undefined;
  beforeTime?: number | undefined;
}
