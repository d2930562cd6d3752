import { createHash } from 'node:crypto';
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';

/**
 * The single-table key design, declared once. Every read in Rota is a GetItem or a
 * Query on one of these keys; nothing scans.
 *
 * | item       | PK            | SK             |
 * |------------|---------------|----------------|
 * | task       | TASK#<id>     | TASK           |
 * | run        | TASK#<id>     | RUN#<runID>    |
 * | lease slot | TASK#<id>     | LEASE#<n>      |
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
  /** TTL attribute (epoch seconds) for run retention. */
  ttl: 'expiresAt',
} as const;

export const INDEX = { byOrgType: 'byOrgType', due: 'due' } as const;

export const TASK_SK = 'TASK';
export const RUN_PREFIX = 'RUN#';
export const LEASE_PREFIX = 'LEASE#';

export const taskPk = (taskID: string) => `TASK#${taskID}`;
export const taskKey = (taskID: string) => ({ [ATTR.pk]: taskPk(taskID), [ATTR.sk]: TASK_SK });
export const runSk = (runID: string) => `${RUN_PREFIX}${runID}`;
export const leaseSk = (slot: number) => `${LEASE_PREFIX}${String(slot).padStart(4, '0')}`;
export const orgTypePk = (orgID: string, type: string) => `${orgID}#${type}`;

/** Spreads active tasks over `shards` partitions of the due index, so no one partition is hot. */
export function dueShard(taskID: string, shards: number): string {
  const n = createHash('sha256').update(taskID).digest().readUInt32BE(0) % shards;
  return `DUE#${n}`;
}
export const dueShardKeys = (shards: number) => Array.from({ length: shards }, (_, n) => `DUE#${n}`);

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
        Projection: { ProjectionType: 'ALL' },
      },
    ],
  };
}
