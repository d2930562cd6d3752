import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Run, RunLogEntry } from '../run/model';
import { taskPk } from './keys';
import { deletePartition } from './partition';
import { claimRun, createRun, finishRun, flushRunLog, heartbeatRun, waitRun } from './run-claims';
import {
  abandonRun,
  failUnfinished,
  postponeOpen,
  requestCancel,
  requeueStalled,
  skipRun,
} from './run-endings';
import { type RunState, runItems } from './run-items';
import { inspectRun, listRuns, queryOpenRuns } from './run-reads';
import type {
  ClaimRequest,
  ClaimResult,
  FinishRequest,
  ListRunsQuery,
  OpenRun,
  WaitRequest,
} from './run-types';
import { tableSender } from './table';

export type { RunState } from './run-items';
export type {
  ClaimRequest,
  ClaimResult,
  FinishRequest,
  ListRunsQuery,
  OpenRun,
  WaitRequest,
} from './run-types';

export { RUN_STORE } from './table-uses';

export interface RunStore {
  /** Creates a queued run (manual, or a retry) in the open index until `openAt`; false if the id exists. */
  create(run: Run, openAt: number): Promise<boolean>;
  get(taskID: string, runID: string): Promise<Run | undefined>;
  /** The run with its claim and open-index state. */
  inspect(taskID: string, runID: string): Promise<RunState | undefined>;
  /**
   * The exactly-once transition into `started`: succeeds only for a new or
   * `scheduled` run, or a `started` run whose claim expired (its executor died).
   */
  claim(request: ClaimRequest): Promise<ClaimResult>;
  /** Extends the claim; false when the run is no longer ours. */
  heartbeat(taskID: string, runID: string, token: string, claimExpiresAt: number): Promise<boolean>;
  /**
   * Stores the lines a started run has written so far, where reads show them after its
   * stored log; false when the run is no longer ours or no longer started. `finish`
   * folds them into the log.
   */
  flushLog(taskID: string, runID: string, token: string, log: RunLogEntry[]): Promise<boolean>;
  /** Writes the final state if we still hold the claim; returns the stored run, or undefined if not ours. */
  finish(taskID: string, runID: string, token: string, result: FinishRequest): Promise<Run | undefined>;
  /**
   * Cancels a queued run, or a started one that no live executor holds (its claim
   * expired), outright; asks the executor of a live one to stop.
   */
  requestCancel(
    taskID: string,
    runID: string,
    now: number,
  ): Promise<'canceled' | 'requested' | 'final' | 'missing'>;
  /** Fails a run whose message was dead-lettered, unless it already finished; false when it had. */
  failUnfinished(
    taskID: string,
    runID: string,
    seed: ClaimRequest['seed'],
    at: string,
    reason: string,
  ): Promise<boolean>;
  /**
   * Records a run that `overlap: skip` turned away: `canceled`, with `reason` as its
   * error and log, never started. False when the run already started or ended.
   */
  skip(
    taskID: string,
    runID: string,
    seed: ClaimRequest['seed'],
    now: number,
    reason: string,
  ): Promise<boolean>;
  /**
   * Stores the run as `scheduled` and waiting (creating it if needed), in the open
   * index. Refused when the run is no longer scheduled, or when another message
   * already carries it (a different `waitToken` whose `openAt` has not passed).
   */
  wait(request: WaitRequest): Promise<{ waiting: true } | { waiting: false; state: RunState | undefined }>;
  /**
   * Moves a run whose executor died holding a lease slot (the slot's token is the
   * claim's) back to `scheduled` and waiting, so it never counts as started beside
   * the run that takes the slot. False when the run is not started under `token`, or
   * someone asked to cancel it (it is then ended, not run again).
   */
  requeueStalled(
    taskID: string,
    runID: string,
    token: string,
    change: { now: number; openAt: number; logLine: string },
  ): Promise<boolean>;
  /** Ends a run that will never run (its task changed or went away), unless a live executor holds it. */
  abandon(taskID: string, runID: string, now: number, reason: string): Promise<Run | undefined>;
  /** One page of the open index for one shard: runs whose `openAt` is at or before `untilMs`. */
  queryOpen(
    shard: string,
    untilMs: number,
    cursor?: Record<string, unknown>,
  ): Promise<{ runs: OpenRun[]; cursor?: Record<string, unknown> | undefined }>;
  /**
   * Moves a run's `openAt` on, if it is still `seen` (nobody else moved it meanwhile).
   * A waiting run's carrier is presumed lost then: the next of its messages to arrive
   * carries it (see `wait`).
   */
  postponeOpen(taskID: string, runID: string, seen: number, openAt: number): Promise<boolean>;
  /** Newest first, by scheduledFor. */
  list(taskID: string, query: ListRunsQuery): Promise<Run[]>;
  /** Removes every run and lease of a task (used when the task is deleted). */
  deleteAllForTask(taskID: string): Promise<number>;
}

export interface RunStoreOptions {
  client: DynamoDBClient;
  tableName: string;
  retentionMs: number;
  /** Partitions of the open index. @default 8 */
  openShards?: number;
}

/** The run store over the run entity (lib/store/entities.ts); each operation lives in run-claims, run-endings or run-reads. */
export function createRunStore({
  client,
  tableName,
  retentionMs,
  openShards = 8,
}: RunStoreOptions): RunStore {
  const items = runItems({ tableName, send: tableSender(client), retentionMs, openShards });
  const inspect = (taskID: string, runID: string) => inspectRun(items, taskID, runID);
  const key = (taskID: string, id: string) => ({ taskID, id });
  return {
    create: (run, openAt) => createRun(items, run, openAt),
    get: async (taskID, runID) => (await inspect(taskID, runID))?.run,
    inspect,
    claim: (request) => claimRun(items, inspect, request),
    heartbeat: (taskID, runID, token, expires) => heartbeatRun(items, key(taskID, runID), token, expires),
    flushLog: (taskID, runID, token, log) => flushRunLog(items, key(taskID, runID), token, log),
    finish: (taskID, runID, token, result) => finishRun(items, key(taskID, runID), token, result),
    requestCancel: (taskID, runID, now) => requestCancel(items, inspect, key(taskID, runID), now),
    failUnfinished: (taskID, runID, seed, at, reason) =>
      failUnfinished(items, key(taskID, runID), seed, at, reason),
    skip: (taskID, runID, seed, now, reason) => skipRun(items, key(taskID, runID), seed, now, reason),
    wait: (request) => waitRun(items, inspect, request),
    requeueStalled: (taskID, runID, token, change) =>
      requeueStalled(items, key(taskID, runID), token, change),
    abandon: (taskID, runID, now, reason) => abandonRun(items, key(taskID, runID), now, reason),
    queryOpen: (shard, untilMs, cursor) => queryOpenRuns(items, shard, untilMs, cursor),
    postponeOpen: (taskID, runID, seen, openAt) => postponeOpen(items, key(taskID, runID), seen, openAt),
    list: (taskID, query) => listRuns(items, taskID, query),
    deleteAllForTask: (taskID) => deletePartition(client, tableName, taskPk(taskID)),
  };
}
