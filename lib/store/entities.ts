import { Entity } from 'dynamodb-toolbox/entity';
import { any } from 'dynamodb-toolbox/schema/any';
import { boolean } from 'dynamodb-toolbox/schema/boolean';
import { item } from 'dynamodb-toolbox/schema/item';
import { list } from 'dynamodb-toolbox/schema/list';
import { map } from 'dynamodb-toolbox/schema/map';
import { number } from 'dynamodb-toolbox/schema/number';
import { string } from 'dynamodb-toolbox/schema/string';
import { prefix } from 'dynamodb-toolbox/transformers/prefix';
import { catchUpSchema, overlapSchema, runStatusSchema, taskStatusSchema } from '../task/model';
import { ATTR, PARTITION, runSk, TASK_SK, taskPk, WAIT_PREFIX } from './keys';
import type { RotaTable } from './table';

/**
 * The core's item types, one entity each, with the key design of `keys.ts`. Systems
 * declare their own items in their folders. Entities write no attributes of their own
 * (no entity name, no timestamps): items stay the bytes they were, so no write costs
 * more, and items written before the entities existed read back unchanged.
 */
const plain = { entityAttribute: false, timestamps: false } as const;

const runStatus = () => string().enum(...runStatusSchema.options);

/** Index and TTL attributes an entity writes beside its own (`ATTR`); reads never return them. */
const indexed = {
  orgTypePk: string().optional().savedAs(ATTR.orgTypePk),
  orgTypeSk: string().optional().savedAs(ATTR.orgTypeSk),
} as const;

/** A task as the store hands it out. */
export const taskSchema = item({
  id: string().key(),
  type: string(),
  orgID: string(),
  ownerID: string().optional(),
  name: string(),
  description: string(),
  status: string().enum(...taskStatusSchema.options),
  every: string().optional(),
  cron: string().optional(),
  offset: string().optional(),
  timezone: string().optional(),
  concurrency: number().optional(),
  timeout: string().optional(),
  retry: map({ attempts: number(), backoff: string() }).optional(),
  catchUp: string().enum(...catchUpSchema.options),
  overlap: string()
    .enum(...overlapSchema.options)
    .optional(),
  // A system's own shape, checked by its zod schema at the edge.
  metadata: any().castAs<Record<string, unknown>>(),
  latestScheduled: string(),
  nextRunAt: string().optional(),
  latestCompleted: string().optional(),
  latestSuccess: string().optional(),
  latestFailure: string().optional(),
  lastRunStatus: runStatus().optional(),
  lastRunError: string().optional(),
  createdAt: string(),
  updatedAt: string(),
  version: number(),
  revision: number(),
});

export const taskEntity = (table: RotaTable) =>
  new Entity({
    ...plain,
    name: 'task',
    table,
    // The item: the task and the index attributes the store writes beside it.
    schema: taskSchema.and({
      ...indexed,
      duePk: string().optional().savedAs(ATTR.duePk),
      dueAt: number().optional().savedAs(ATTR.dueAt),
    }),
    computeKey: ({ id }) => ({ [ATTR.pk]: taskPk(id), [ATTR.sk]: TASK_SK }),
  });

/** A run item: the run and the engine's state on it. */
export const runSchema = item({
  taskID: string().key(),
  id: string().key(),
  status: runStatus(),
  kind: string().enum('scheduled', 'manual', 'retry', 'backfill'),
  scheduledFor: string(),
  runAt: string().optional(),
  requestedAt: string().optional(),
  startedAt: string().optional(),
  finishedAt: string().optional(),
  attempt: number(),
  retryOf: string().optional(),
  error: string().optional(),
  // Optional on read as before: an item some write made without one reads as an empty log.
  log: list(map({ time: string(), message: string() })).optional(),
  revision: number().optional(),
  claims: number().optional(),
  cancelRequested: boolean().optional(),
  // A backfilled run's own overlap, which wins over its task's.
  overlap: string()
    .enum(...overlapSchema.options)
    .optional(),
});

/** A run item: the run and the engine's own state on it, which callers never see as part of the run. */
export const runItemSchema = runSchema.and({
  // The claim, the carrier of a waiting run, the open index, the TTL.
  claimToken: string().optional(),
  claimExpiresAt: number().optional(),
  // The lines a started run's executor flushed so far; the final write folds them into
  // `log` and removes this (docs/decisions/0024-live-logs.md).
  liveLog: list(map({ time: string(), message: string() })).optional(),
  waitToken: string().optional(),
  waiting: boolean().optional(),
  openPk: string().optional().savedAs(ATTR.openPk),
  openAt: number().optional().savedAs(ATTR.openAt),
  expiresAt: number().optional().savedAs(ATTR.ttl),
});

export const runEntity = (table: RotaTable) =>
  new Entity({
    ...plain,
    name: 'run',
    table,
    schema: runItemSchema,
    computeKey: ({ taskID, id }) => ({ [ATTR.pk]: taskPk(taskID), [ATTR.sk]: runSk(id) }),
  });

/** The task's partition, as a key attribute (`TASK#<taskID>`) of items that do not store the id themselves. */
const inTaskPartition = () =>
  string()
    .key()
    .savedAs(ATTR.pk)
    .transform(prefix(PARTITION.task, { delimiter: '' }));

/** A concurrency slot of a task (`LEASE#0000…`): its holder, until when it counts as alive. */
export const leaseEntity = (table: RotaTable) =>
  new Entity({
    ...plain,
    name: 'lease',
    table,
    schema: item({
      taskID: inTaskPartition(),
      /** `leaseSk(slot)`. */
      sk: string().key().hidden().savedAs(ATTR.sk),
      slot: number(),
      runID: string(),
      token: string(),
      expiresAtMs: number(),
    }),
  });

/** A run waiting for a slot (`WAIT#<runID>`); run ids sort by scheduledFor, so waiters do too. */
export const waiterEntity = (table: RotaTable) =>
  new Entity({
    ...plain,
    name: 'waiter',
    table,
    schema: item({
      taskID: inTaskPartition(),
      runID: string()
        .key()
        .savedAs(ATTR.sk)
        .transform(prefix(WAIT_PREFIX, { delimiter: '' })),
      marker: string(),
      wokenAt: number().optional(),
    }),
  });
