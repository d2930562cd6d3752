import type { Condition } from 'dynamodb-toolbox/entity/actions/parseCondition';
import { $remove } from 'dynamodb-toolbox/entity/actions/update/symbols';
import { Formatter } from 'dynamodb-toolbox/schema/actions/format';
import type { Run, RunLogEntry } from '../run/model';
import { runEntity, runItemSchema, runSchema } from './entities';
import { formatStored } from './items';
import { openShard } from './keys';
import { type RotaTable, rotaTable, type TableSender } from './table';

/** A run with the state the engine decides on, which the API never shows. */
export interface RunState {
  run: Run;
  /** While `started`: until when the executor holding it counts as alive. */
  claimExpiresAt?: number | undefined;
  /** While in the open index: when it counts as stalled. */
  openAt?: number | undefined;
  /** The run waits for a concurrency slot (and has a waiter marker). */
  waiting: boolean;
}

/** What the parts of the run store share: the run entity, its table, the sender and the clocks of an item. */
export interface RunItems {
  table: RotaTable;
  runs: ReturnType<typeof runEntity>;
  send: TableSender;
  /** The TTL attribute for an item written at `now`. */
  ttl(now: number): number;
  openShard(taskID: string): string;
  /** A stored run item, checked against the entity's schema. */
  state(item: Record<string, unknown>): RunState;
  run(item: Record<string, unknown>): Run;
  /** How often a claimed run has been claimed, the one thing the claim's caller reads. */
  claims(item: Record<string, unknown>): number;
}

export function runItems(options: {
  tableName: string;
  send: TableSender;
  retentionMs: number;
  openShards: number;
}): RunItems {
  const table = rotaTable(options.tableName);
  const runs = runEntity(table);
  // Each read checks the attributes its caller gets, and only those (the formatter costs
  // per schema attribute): the run, without the engine's state; the state the engine
  // decides on, the claim's count among it. Tokens, the shard and the TTL stay inside the store.
  const runOnly = runSchema.build(Formatter);
  const engineState = runItemSchema.pick('claims', 'claimExpiresAt', 'openAt', 'waiting').build(Formatter);
  const live = runItemSchema.pick('liveLog').build(Formatter);
  // A started run shows what its executor flushed so far after what was stored before it started.
  const run = (item: Record<string, unknown>): Run => {
    const { log, ...stored } = formatStored(runOnly, item);
    const flushed = item.liveLog === undefined ? undefined : formatStored(live, item).liveLog;
    return { ...stored, log: flushed ? [...(log ?? []), ...flushed] : (log ?? []) };
  };
  return {
    table,
    runs,
    send: options.send,
    ttl: (now) => Math.floor((now + options.retentionMs) / 1000),
    openShard: (taskID) => openShard(taskID, options.openShards),
    state: (item) => {
      const { claimExpiresAt, openAt, waiting } = formatStored(engineState, item);
      return { run: run(item), claimExpiresAt, openAt, waiting: waiting === true };
    },
    run,
    // The claim ADDs to claims, so a claimed item always has it.
    claims: (item) => formatStored(engineState, item).claims ?? 1,
  };
}

/** A condition on a run item, in the entity's terms. */
export type RunCondition = Condition<ReturnType<typeof runEntity>>;

/** A log of one line at `now`. */
export const logEntry = (now: number, message: string): RunLogEntry[] => [
  { time: new Date(now).toISOString(), message },
];

/** Removes the claim: every write that ends a run or hands it back does. */
export const UNCLAIMED = { claimToken: $remove(), claimExpiresAt: $remove() } as const;

/** Removes everything that marks a run as open: every write that ends it does. */
export const CLOSED = {
  openPk: $remove(),
  openAt: $remove(),
  waitToken: $remove(),
  waiting: $remove(),
} as const;
