import { randomUUID } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteItemCommand } from 'dynamodb-toolbox/entity/actions/delete';
import { EntityFormatter } from 'dynamodb-toolbox/entity/actions/format';
import type { Condition } from 'dynamodb-toolbox/entity/actions/parseCondition';
import { PutItemCommand } from 'dynamodb-toolbox/entity/actions/put';
import { UpdateItemCommand } from 'dynamodb-toolbox/entity/actions/update';
import { QueryCommand } from 'dynamodb-toolbox/table/actions/query';
import { leaseEntity, waiterEntity } from './entities';
import { wrote } from './items';
import { LEASE_PREFIX, leaseSk, taskPk, WAIT_PREFIX, waitSk } from './keys';
import { rotaTable, tableSender } from './table';

export { LEASE_STORE } from './table-uses';

export interface Lease {
  taskID: string;
  slot: number;
  token: string;
  runID: string;
}

/** A stored slot: its holder and until when the holder counts as alive. */
export interface Slot {
  slot: number;
  runID: string;
  token: string;
  expiresAtMs: number;
}

/**
 * Concurrency leases: slot items `LEASE#0000…LEASE#<limit-1>` under the task's
 * partition. A slot is taken with a conditional put that succeeds only if the slot
 * is free or its holder's lease expired, so at most `limit` holders exist at any
 * instant without transactions. Releasing is a delete conditional on the holder.
 *
 * Waiters are marker items `WAIT#<runID>` in the same partition. Run IDs sort by
 * scheduledFor, so one consistent Query reads the oldest waiters first.
 */
export interface LeaseStore {
  /** Every slot item of the task, live or expired (one consistent Query). */
  slots(taskID: string): Promise<Slot[]>;
  /**
   * Takes `slot` if it is free or expired; undefined when someone else holds it. With
   * `from`, hands it over instead, in one write, if the holder with that token still
   * holds it: the new holder finds the slot under its run ID and adopts its token.
   */
  take(
    taskID: string,
    slot: number,
    holder: { runID: string; token: string },
    ttlMs: number,
    now: number,
    from?: string,
  ): Promise<Lease | undefined>;
  /** Deletes an expired slot, if `token` still holds it. */
  clearExpired(taskID: string, slot: number, token: string, now: number): Promise<boolean>;
  extend(lease: Lease, expiresAt: number): Promise<boolean>;
  /** Frees the slot; false when it was no longer ours (it expired and someone took it). */
  release(lease: Lease): Promise<boolean>;
  addWaiter(taskID: string, runID: string): Promise<void>;
  /**
   * Deletes a run's marker; with `marker`, only that one (a marker read earlier may have
   * been replaced since, by a run that went back to waiting, and must then stay).
   */
  removeWaiter(taskID: string, runID: string, marker?: string): Promise<void>;
  /**
   * Marks a waiting run as just woken; false when someone woke it within `quietMs`, so
   * a run is woken once per quiet period however many executors notice its turn.
   */
  markWoken(taskID: string, runID: string, now: number, quietMs: number): Promise<boolean>;
  /** Waiting runs, oldest scheduledFor first, after `afterRunID` when given. */
  waiters(
    taskID: string,
    options: { limit: number; afterRunID?: string | undefined },
  ): Promise<{ runID: string; marker: string }[]>;
}

/** What the lease store's operations share: the slot and waiter entities, their table, the sender. */
function leaseItems(client: DynamoDBClient, tableName: string) {
  const table = rotaTable(tableName);
  const leases = leaseEntity(table);
  const waiting = waiterEntity(table);
  return {
    table,
    leases,
    waiting,
    send: tableSender(client),
    asSlot: leases.build(EntityFormatter),
    asWaiter: waiting.build(EntityFormatter),
    slotKey: (taskID: string, slot: number) => ({ taskID, sk: leaseSk(slot) }),
  };
}

type LeaseItems = ReturnType<typeof leaseItems>;

export function createLeaseStore({
  client,
  tableName,
}: {
  client: DynamoDBClient;
  tableName: string;
}): LeaseStore {
  const items = leaseItems(client, tableName);
  return {
    slots: (...args) => slots(items, ...args),
    take: (...args) => take(items, ...args),
    clearExpired: (...args) => clearExpired(items, ...args),
    extend: (...args) => extend(items, ...args),
    release: (...args) => release(items, ...args),
    addWaiter: (...args) => addWaiter(items, ...args),
    removeWaiter: (...args) => removeWaiter(items, ...args),
    markWoken: (...args) => markWoken(items, ...args),
    waiters: (...args) => waiters(items, ...args),
  };
}

async function slots(store: LeaseItems, taskID: string) {
  const { table, leases, send, asSlot } = store;
  const params = table
    .build(QueryCommand)
    .entities(leases)
    .query({ partition: taskPk(taskID), range: { beginsWith: LEASE_PREFIX } })
    .options({ consistent: true })
    .params();
  const { items } = await send.query(params);
  return items.map((raw) => {
    const { slot, runID, token, expiresAtMs } = asSlot.format(raw);
    return { slot, runID, token, expiresAtMs };
  });
}

async function take(
  store: LeaseItems,
  taskID: string,
  slot: number,
  holder: { runID: string; token: string },
  ttlMs: number,
  now: number,
  from?: string,
) {
  const { leases, send, slotKey } = store;
  // Another executor may take this slot between a read and this write: then it fails.
  const free: Condition<typeof leases> = {
    or: [
      { attr: 'slot', exists: false },
      { attr: 'expiresAtMs', lt: now },
    ],
  };
  const params = leases
    .build(PutItemCommand)
    .item({ ...slotKey(taskID, slot), slot, ...holder, expiresAtMs: now + ttlMs })
    .options({ condition: from === undefined ? free : { attr: 'token', eq: from } })
    .params();
  const taken = await wrote(() => send.put(params));
  return taken ? { taskID, slot, token: holder.token, runID: holder.runID } : undefined;
}

async function clearExpired(store: LeaseItems, taskID: string, slot: number, token: string, now: number) {
  const { leases, send, slotKey } = store;
  const params = leases
    .build(DeleteItemCommand)
    .key(slotKey(taskID, slot))
    .options({
      condition: {
        and: [
          { attr: 'token', eq: token },
          { attr: 'expiresAtMs', lt: now },
        ],
      },
    })
    .params();
  return wrote(() => send.delete(params));
}

async function extend(store: LeaseItems, lease: Lease, expiresAt: number) {
  const { leases, send, slotKey } = store;
  const params = leases
    .build(UpdateItemCommand)
    .item({ ...slotKey(lease.taskID, lease.slot), expiresAtMs: expiresAt })
    .options({ condition: { attr: 'token', eq: lease.token } })
    .params();
  return wrote(() => send.update(params));
}

async function release(store: LeaseItems, lease: Lease) {
  const { leases, send, slotKey } = store;
  // A failed condition means the lease expired and another holder took the slot:
  // it is no longer ours to free.
  const params = leases
    .build(DeleteItemCommand)
    .key(slotKey(lease.taskID, lease.slot))
    .options({ condition: { attr: 'token', eq: lease.token } })
    .params();
  return wrote(() => send.delete(params));
}

async function addWaiter(store: LeaseItems, taskID: string, runID: string) {
  const { waiting, send } = store;
  await send.put(waiting.build(PutItemCommand).item({ taskID, runID, marker: randomUUID() }).params());
}

async function removeWaiter(store: LeaseItems, taskID: string, runID: string, marker?: string) {
  const { waiting, send } = store;
  const params = waiting
    .build(DeleteItemCommand)
    .key({ taskID, runID })
    .options(marker ? { condition: { attr: 'marker', eq: marker } } : {})
    .params();
  await wrote(() => send.delete(params));
}

async function markWoken(store: LeaseItems, taskID: string, runID: string, now: number, quietMs: number) {
  const { waiting, send } = store;
  const params = waiting
    .build(UpdateItemCommand)
    .item({ taskID, runID, wokenAt: now })
    .options({
      condition: {
        and: [
          { attr: 'marker', exists: true },
          {
            or: [
              { attr: 'wokenAt', exists: false },
              { attr: 'wokenAt', lt: now - quietMs },
            ],
          },
        ],
      },
    })
    .params();
  return wrote(() => send.update(params));
}

async function waiters(
  store: LeaseItems,
  taskID: string,
  { limit, afterRunID }: { limit: number; afterRunID?: string | undefined },
) {
  const { table, waiting, send, asWaiter } = store;
  const lower = afterRunID === undefined ? WAIT_PREFIX : waitSk(afterRunID);
  const params = table
    .build(QueryCommand)
    .entities(waiting)
    .query({ partition: taskPk(taskID), range: { between: [lower, `${WAIT_PREFIX}~`] } })
    // BETWEEN is inclusive: the cursor itself may come back, and is dropped.
    .options({ consistent: true, limit: limit + 1 })
    .params();
  const { items } = await send.query(params);
  return items
    .map((raw) => {
      const { runID, marker } = asWaiter.format(raw);
      return { runID, marker };
    })
    .filter(({ runID }) => runID !== afterRunID)
    .slice(0, limit);
}
