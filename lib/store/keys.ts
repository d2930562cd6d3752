import { createHash } from 'node:crypto';
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';

/**
 * The single-table key design of the core's items, declared once; each item type is a
 * dynamodb-toolbox entity over these keys (lib/store/entities.ts, lib/auth/entity.ts).
 * Every read in Rota is a GetItem or a Query on one of these keys; nothing scans.
 *
 * | item       | PK            | SK             |
 * |------------|---------------|----------------|
 * | task       | TASK#<id>     | TASK           |  (byOrgType: `<org>#<type>` → id; due: `DUE#<shard>` → next run) |
 * | run        | TASK#<id>     | RUN#<runID>    |  (its claim lives on it; open: `OPEN#<shard>` → stall time) |
 * | lease slot | TASK#<id>     | LEASE#<n>      |
 * | waiter     | TASK#<id>     | WAIT#<runID>   |  (a run waiting for a lease slot; sorts by scheduledFor)
 * | API token (authorization) | AUTH#<tokenID> | AUTH (byOrgType: `<org>#~authorization` → id) |
 * | orgs holding tokens | AUTH#~orgs | DIRECTORY | (a string set: how the operator lists every org's tokens) |
 * | org task quota | ORG#<orgID> | QUOTA |
 * | orgs holding a system's tasks | ORGS#<type> | DIRECTORY | (a string set: how the operator lists every org's tasks of a type) |
 *
 * Systems declare their own items beside their stores (lib/systems/<name>/*-store.ts):
 * in a task's partition (checks' statuses and state, notification rules' log and
 * cursor), or in a partition of their own (notification endpoints, `ENDPOINT#`).
 * Items that belong to a task live in its partition, so deleting a task deletes them
 * with one Query. `~` cannot appear in a system type, so the byOrgType partitions a
 * system keeps per org (`<org>#~status`) never collide with a system's tasks.
 */
export const ATTR = {
  pk: 'PK',
  sk: 'SK',
  /** byOrgType index: `<orgID>#<type>` → task id. */
  orgTypePk: 'GSI1PK',
  orgTypeSk: 'GSI1SK',
  /** due index (sparse, only active tasks): `DUE#<shard>` → next run time in epoch ms. */
  duePk: 'DUEPK',
  dueAt: 'DUEAT',
  /**
   * open index (sparse): `OPEN#<shard>` → when an open run counts as stalled, epoch ms.
   * Only runs that exist as items before they start carry it (manual runs, retries,
   * waiting runs), from creation until they finish; a plain scheduled run never does.
   */
  openPk: 'OPENPK',
  openAt: 'OPENAT',
  /** TTL attribute (epoch seconds) for run retention. */
  ttl: 'expiresAt',
} as const;

export const INDEX = { byOrgType: 'byOrgType', due: 'due', open: 'open' } as const;

/**
 * What the scheduler reads from the `due` index. Projecting only these (not ALL)
 * means a run's completion bookkeeping on the task item never rewrites the index,
 * which saves a write unit per run.
 */
export const DUE_PROJECTION = [
  'id',
  'type',
  'orgID',
  'status',
  'every',
  'cron',
  'offset',
  'timezone',
  'catchUp',
  'latestScheduled',
  'nextRunAt',
  'version',
  'revision',
] as const;

/**
 * What the reconciler reads from the `open` index: enough to rebuild a run's queue
 * message. Heartbeats (`claimExpiresAt`) and logs stay out, so they never rewrite it.
 */
export const OPEN_PROJECTION = [
  'id',
  'taskID',
  'status',
  'kind',
  'scheduledFor',
  'attempt',
  'revision',
] as const;

export const TASK_SK = 'TASK';
export const RUN_PREFIX = 'RUN#';
export const LEASE_PREFIX = 'LEASE#';
export const WAIT_PREFIX = 'WAIT#';

/** The first part of every partition key: IAM confines each role to its prefixes (`dynamodb:LeadingKeys`). */
export const PARTITION = { task: 'TASK#', auth: 'AUTH#', org: 'ORG#', orgs: 'ORGS#' } as const;

export const taskPk = (taskID: string) => `${PARTITION.task}${taskID}`;
export const taskKey = (taskID: string) => ({ [ATTR.pk]: taskPk(taskID), [ATTR.sk]: TASK_SK });
export const runSk = (runID: string) => `${RUN_PREFIX}${runID}`;
export const waitSk = (runID: string) => `${WAIT_PREFIX}${runID}`;
export const leaseSk = (slot: number) => `${LEASE_PREFIX}${String(slot).padStart(4, '0')}`;
export const orgTypePk = (orgID: string, type: string) => `${orgID}#${type}`;

export const AUTH_SK = 'AUTH';
export const authKey = (tokenID: string) => ({
  [ATTR.pk]: `${PARTITION.auth}${tokenID}`,
  [ATTR.sk]: AUTH_SK,
});
export const orgAuthorizationsPk = (orgID: string) => `${orgID}#~authorization`;
/** `~` is no ULID character, so no token id can name this item. */
export const tokenOrgsKey = () => ({ [ATTR.pk]: `${PARTITION.auth}~orgs`, [ATTR.sk]: 'DIRECTORY' });
/** A system type names its directory: checks and rules are tasks of their own type. */
export const taskOrgsKey = (type: string) => ({
  [ATTR.pk]: `${PARTITION.orgs}${type}`,
  [ATTR.sk]: 'DIRECTORY',
});
export const ORG_QUOTA_SK = 'QUOTA';
export const orgQuotaKey = (orgID: string) => ({
  [ATTR.pk]: `${PARTITION.org}${orgID}`,
  [ATTR.sk]: ORG_QUOTA_SK,
});

const shardOf = (taskID: string, shards: number) =>
  createHash('sha256').update(taskID).digest().readUInt32BE(0) % shards;

/** Spreads active tasks over `shards` partitions of the due index, so no one partition is hot. */
export const dueShard = (taskID: string, shards: number) => `DUE#${shardOf(taskID, shards)}`;
export const dueShardKeys = (shards: number) => Array.from({ length: shards }, (_, n) => `DUE#${n}`);

/** The open index is sharded the same way, by task. */
export const openShard = (taskID: string, shards: number) => `OPEN#${shardOf(taskID, shards)}`;
export const openShardKeys = (shards: number) => Array.from({ length: shards }, (_, n) => `OPEN#${n}`);

/**
 * The table as local mode and the tests create it. The CDK construct declares the
 * same keys and indexes (test/infra asserts they match).
 */
export function tableDefinition(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: ATTR.pk, AttributeType: 'S' },
      { AttributeName: ATTR.sk, AttributeType: 'S' },
      { AttributeName: ATTR.orgTypePk, AttributeType: 'S' },
      { AttributeName: ATTR.orgTypeSk, AttributeType: 'S' },
      { AttributeName: ATTR.duePk, AttributeType: 'S' },
      { AttributeName: ATTR.dueAt, AttributeType: 'N' },
      { AttributeName: ATTR.openPk, AttributeType: 'S' },
      { AttributeName: ATTR.openAt, AttributeType: 'N' },
    ],
    KeySchema: [
      { AttributeName: ATTR.pk, KeyType: 'HASH' },
      { AttributeName: ATTR.sk, KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: [
      {
        IndexName: INDEX.byOrgType,
        KeySchema: [
          { AttributeName: ATTR.orgTypePk, KeyType: 'HASH' },
          { AttributeName: ATTR.orgTypeSk, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
      {
        IndexName: INDEX.due,
        KeySchema: [
          { AttributeName: ATTR.duePk, KeyType: 'HASH' },
          { AttributeName: ATTR.dueAt, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: [...DUE_PROJECTION] },
      },
      {
        IndexName: INDEX.open,
        KeySchema: [
          { AttributeName: ATTR.openPk, KeyType: 'HASH' },
          { AttributeName: ATTR.openAt, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: [...OPEN_PROJECTION] },
      },
    ],
  };
}
