import { EntityFormatter } from 'dynamodb-toolbox/entity/actions/format';
import type { Condition } from 'dynamodb-toolbox/entity/actions/parseCondition';
import { $remove } from 'dynamodb-toolbox/entity/actions/update/symbols';
import { Formatter } from 'dynamodb-toolbox/schema/actions/format';
import type { Run, RunLogEntry } from '../run/model';
import { RUN_STATE_ATTRIBUTES, runEntity, runSchema } from './entities';
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
  const formatter = runs.build(EntityFormatter);
  // Reads on every run check only what their caller gets (the formatter costs per schema
  // attribute): the final write's run, without the engine's state; the claim's count.
  const runOnly = runSchema.omit(...RUN_STATE_ATTRIBUTES).build(Formatter);
  const claimCount = runSchema.pick('claims').build(Formatter);
  const state = (item: Record<string, unknown>): RunState => {
    // Claim, carrier and index bookkeeping stay inside the store; callers see the run.
    const {
      claimToken: _token,
      claimExpiresAt,
      waitToken: _carrier,
      waiting,
      openPk: _shard,
      openAt,
      expiresAt: _ttl,
      log,
      ...run
    } = formatter.format(item);
    return { run: { ...run, log: log ?? [] }, claimExpiresAt, openAt, waiting: waiting === true };
  };
  return {
    table,
    runs,
    send: options.send,
    ttl: (now) => Math.floor((now + options.retentionMs) / 1000),
    openShard: (taskID) => openShard(taskID, options.openShards),
    state,
    run: (item) => {
      const { log, ...run } = formatStored(runOnly, item);
      return { ...run, log: log ?? [] };
    },
    // The claim ADDs to claims, so a claimed item always has it.
    claims: (item) => formatStored(claimCount, item).claims ?? 1,
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
