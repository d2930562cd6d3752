import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { Entity } from 'dynamodb-toolbox/entity';
import { EntityFormatter } from 'dynamodb-toolbox/entity/actions/format';
import { GetItemCommand } from 'dynamodb-toolbox/entity/actions/get';
import { PutItemCommand } from 'dynamodb-toolbox/entity/actions/put';
import { UpdateItemCommand } from 'dynamodb-toolbox/entity/actions/update';
import { item } from 'dynamodb-toolbox/schema/item';
import { number } from 'dynamodb-toolbox/schema/number';
import { record } from 'dynamodb-toolbox/schema/record';
import { string } from 'dynamodb-toolbox/schema/string';
import { QueryCommand } from 'dynamodb-toolbox/table/actions/query';
import { prefix } from 'dynamodb-toolbox/transformers/prefix';
import { ATTR, INDEX, PARTITION, taskPk } from '../../store/keys';
import { type RotaTable, rotaTable, tableSender } from '../../store/table';
import { type CheckStatus, LEVELS, type Level } from './model';

/**
 * The checks system's items in a check's partition, declared here rather than in the
 * core's key module: its statuses (`STATUS#<time>#<runID>`, and in byOrgType under
 * `<org>#~status` by when they were written) and its state (`CHECKSTATE`).
 */
const STATUS_PREFIX = 'STATUS#';
const CHECK_STATE_SK = 'CHECKSTATE';
const orgStatusesPk = (orgID: string) => `${orgID}#~status`;
const plain = { entityAttribute: false, timestamps: false } as const;
const level = () => string().enum(...LEVELS, 'UNKNOWN');

export const statusEntity = (table: RotaTable) =>
  new Entity({
    ...plain,
    name: 'checkStatus',
    table,
    schema: item({
      checkID: string().key(),
      time: string().key(),
      runID: string().key(),
      checkName: string(),
      level: level(),
      previousLevel: level().optional(),
      message: string(),
      value: number().optional(),
      error: string().optional(),
      tags: record(string(), string()),
      recordedAt: string(),
      orgTypePk: string().optional().savedAs(ATTR.orgTypePk),
      orgTypeSk: string().optional().savedAs(ATTR.orgTypeSk),
      expiresAt: number().optional().savedAs(ATTR.ttl),
    }),
    computeKey: ({ checkID, time, runID }) => ({
      [ATTR.pk]: taskPk(checkID),
      [ATTR.sk]: `${STATUS_PREFIX}${time}#${runID}`,
    }),
  });

export const checkStateEntity = (table: RotaTable) =>
  new Entity({
    ...plain,
    name: 'checkState',
    table,
    schema: item({
      checkID: string()
        .key()
        .savedAs(ATTR.pk)
        .transform(prefix(PARTITION.task, { delimiter: '' })),
      sk: string().key().hidden().savedAs(ATTR.sk).default(CHECK_STATE_SK),
      lastLevel: level().optional(),
      lastSuccessAt: string().optional(),
    }),
  });

export { STATUS_STORE } from './table-uses';

export interface CheckState {
  lastLevel?: Level | undefined;
  lastSuccessAt?: string | undefined;
}

export interface StatusQuery {
  limit: number;
  afterTime?: string | undefined;
  beforeTime?: string | undefined;
}

/** What the status store's operations share: the status and state entities, their table, the sender. */
function statusItems(client: DynamoDBClient, tableName: string, retentionMs: number) {
  const table = rotaTable(tableName);
  const statuses = statusEntity(table);
  const formatter = statuses.build(EntityFormatter);
  const toStatus = (stored: Record<string, unknown>): CheckStatus => {
    const { orgTypePk: _pk, orgTypeSk: _sk, expiresAt: _ttl, ...status } = formatter.format(stored);
    return status;
  };
  return {
    table,
    statuses,
    states: checkStateEntity(table),
    send: tableSender(client),
    toStatus,
    retentionMs,
  };
}

type StatusItems = ReturnType<typeof statusItems>;

/**
 * Check statuses live in the check's partition (deleting the check deletes them)
 * and in the org's `~status` partition of the byOrgType index, ordered by when they
 * were written, which is how notification rules read them.
 */
export function createStatusStore({
  client,
  tableName,
  retentionMs,
}: {
  client: DynamoDBClient;
  tableName: string;
  retentionMs: number;
}) {
  const store = statusItems(client, tableName, retentionMs);
  return {
    write: write.bind(null, store),
    list: list.bind(null, store),
    writtenSince: writtenSince.bind(null, store),
    getState: getState.bind(null, store),
    setState: setState.bind(null, store),
  };
}

async function write(store: StatusItems, orgID: string, status: CheckStatus) {
  const { statuses, send, retentionMs } = store;
  const put = statuses.build(PutItemCommand).item({
    ...status,
    orgTypePk: orgStatusesPk(orgID),
    orgTypeSk: `${status.recordedAt}#${status.checkID}#${status.runID}`,
    expiresAt: Math.floor((Date.now() + retentionMs) / 1000),
  });
  await send.put(put.params());
}

async function list(store: StatusItems, checkID: string, { limit, afterTime, beforeTime }: StatusQuery) {
  const { table, statuses, send, toStatus } = store;
  const lower = `${STATUS_PREFIX}${afterTime ?? ''}`;
  const upper = `${STATUS_PREFIX}${beforeTime ?? ''}~`;
  const params = table
    .build(QueryCommand)
    .entities(statuses)
    .query({ partition: taskPk(checkID), range: { between: [lower, upper] } })
    .options({ reverse: true, limit })
    .params();
  return (await send.query(params)).items.map(toStatus);
}

async function writtenSince(store: StatusItems, orgID: string, since: string, max: number) {
  const { table, statuses, send, toStatus } = store;
  const found: CheckStatus[] = [];
  let cursor: Record<string, unknown> | undefined;
  do {
    const params = table
      .build(QueryCommand)
      .entities(statuses)
      // Keys are `<recordedAt>#<checkID>#<runID>`; `~` sorts after every id character,
      // so a status written exactly at `since` is excluded, as the contract says.
      .query({ index: INDEX.byOrgType, partition: orgStatusesPk(orgID), range: { gt: `${since}#~` } })
      .options({ limit: Math.min(max, 500), ...(cursor ? { exclusiveStartKey: cursor } : {}) })
      .params();
    const page = await send.query(params);
    found.push(...page.items.map(toStatus));
    cursor = page.cursor;
  } while (cursor && found.length < max);
  return found.slice(0, max);
}

async function getState(store: StatusItems, checkID: string) {
  const { states, send } = store;
  const stored = await send.get(
    states.build(GetItemCommand).key({ checkID }).options({ consistent: true }).params(),
  );
  if (!stored) return {};
  const { lastLevel, lastSuccessAt } = states.build(EntityFormatter).format(stored);
  return { lastLevel, lastSuccessAt };
}

async function setState(store: StatusItems, checkID: string, state: CheckState) {
  const { states, send } = store;
  const update = states.build(UpdateItemCommand).item({
    checkID,
    ...(state.lastLevel !== undefined ? { lastLevel: state.lastLevel } : {}),
    ...(state.lastSuccessAt ? { lastSuccessAt: state.lastSuccessAt } : {}),
  });
  await send.update(update.params());
}

export type StatusStore = ReturnType<typeof createStatusStore>;
