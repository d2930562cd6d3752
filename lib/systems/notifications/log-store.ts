import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { Entity } from 'dynamodb-toolbox/entity';
import { EntityFormatter } from 'dynamodb-toolbox/entity/actions/format';
import { GetItemCommand } from 'dynamodb-toolbox/entity/actions/get';
import { PutItemCommand } from 'dynamodb-toolbox/entity/actions/put';
import { UpdateItemCommand } from 'dynamodb-toolbox/entity/actions/update';
import { item } from 'dynamodb-toolbox/schema/item';
import { number } from 'dynamodb-toolbox/schema/number';
import { string } from 'dynamodb-toolbox/schema/string';
import { QueryCommand } from 'dynamodb-toolbox/table/actions/query';
import { prefix } from 'dynamodb-toolbox/transformers/prefix';
import { wrote } from '../../store/items';
import { ATTR, PARTITION, taskPk } from '../../store/keys';
import { type RotaTable, rotaTable, tableSender } from '../../store/table';
import type { NotificationLogEntry } from './rule-model';

/**
 * The notifications system's items in a rule's partition, declared here rather than in
 * the core's key module: the log (`NOTIFY#<statusTime>#<checkID>#<statusRunID>`) and
 * the rule's read cursor (`RULESTATE`).
 */
const NOTIFY_PREFIX = 'NOTIFY#';
const RULE_STATE_SK = 'RULESTATE';
const plain = { entityAttribute: false, timestamps: false } as const;

export const logEntity = (table: RotaTable) =>
  new Entity({
    ...plain,
    name: 'notificationLog',
    table,
    schema: item({
      ruleID: string().key(),
      /** `notifySk(…)`: the status the entry reports, which makes the key its dedup key. */
      sk: string().key().hidden().savedAs(ATTR.sk),
      statusTime: string(),
      checkID: string(),
      time: string(),
      runID: string(),
      checkName: string(),
      level: string(),
      previousLevel: string().optional(),
      endpointID: string(),
      endpointName: string(),
      endpointType: string(),
      message: string(),
      outcome: string().enum('sending', 'sent', 'failed'),
      httpStatus: number().optional(),
      error: string().optional(),
      expiresAt: number().optional().savedAs(ATTR.ttl),
    }),
    computeKey: ({ ruleID, sk }) => ({ [ATTR.pk]: taskPk(ruleID), [ATTR.sk]: sk }),
  });

export const ruleStateEntity = (table: RotaTable) =>
  new Entity({
    ...plain,
    name: 'ruleState',
    table,
    schema: item({
      ruleID: string()
        .key()
        .savedAs(ATTR.pk)
        .transform(prefix(PARTITION.task, { delimiter: '' })),
      sk: string().key().hidden().savedAs(ATTR.sk).default(RULE_STATE_SK),
      cursor: string().optional(),
    }),
  });

const notifySk = (statusTime: string, checkID: string, statusRunID: string) =>
  `${NOTIFY_PREFIX}${statusTime}#${checkID}#${statusRunID}`;

export { NOTIFICATION_LOG_STORE } from './table-uses';

/** What the log store's operations share: the log and cursor entities, their table, the sender. */
function logItems(client: DynamoDBClient, tableName: string, retentionMs: number) {
  const table = rotaTable(tableName);
  const log = logEntity(table);
  const formatter = log.build(EntityFormatter);
  const asEntry = (stored: Record<string, unknown>): NotificationLogEntry => {
    const { expiresAt: _ttl, ...entry } = formatter.format(stored);
    return entry;
  };
  const sk = (entry: NotificationLogEntry, statusRunID: string) =>
    notifySk(entry.statusTime, entry.checkID, statusRunID);
  return {
    table,
    log,
    ruleStates: ruleStateEntity(table),
    send: tableSender(client),
    asEntry,
    sk,
    retentionMs,
  };
}

type LogItems = ReturnType<typeof logItems>;

/**
 * The notification log and each rule's read cursor, both in the rule's partition.
 * A log entry's key is the rule plus the status it reports, which makes it the
 * dedup key: a retried or redelivered run never sends the same notification twice.
 */
export function createNotificationLogStore({
  client,
  tableName,
  retentionMs,
}: {
  client: DynamoDBClient;
  tableName: string;
  retentionMs: number;
}) {
  const store = logItems(client, tableName, retentionMs);
  return {
    claim: claim.bind(null, store),
    settle: settle.bind(null, store),
    list: list.bind(null, store),
    cursor: cursor.bind(null, store),
    setCursor: setCursor.bind(null, store),
  };
}

async function claim(store: LogItems, entry: NotificationLogEntry, statusRunID: string) {
  const { log, send, sk, retentionMs } = store;
  const put = log
    .build(PutItemCommand)
    .item({
      ...entry,
      sk: sk(entry, statusRunID),
      expiresAt: Math.floor((Date.now() + retentionMs) / 1000),
    })
    // Only a failed send may be tried again.
    .options({
      condition: {
        or: [
          { attr: 'ruleID', exists: false },
          { attr: 'outcome', eq: 'failed' },
        ],
      },
    });
  return wrote(() => send.put(put.params()));
}

async function settle(
  store: LogItems,
  entry: NotificationLogEntry,
  statusRunID: string,
  result: Pick<NotificationLogEntry, 'outcome' | 'httpStatus' | 'error'>,
) {
  const { log, send, sk } = store;
  const update = log.build(UpdateItemCommand).item({
    ruleID: entry.ruleID,
    sk: sk(entry, statusRunID),
    outcome: result.outcome,
    ...(result.httpStatus !== undefined ? { httpStatus: result.httpStatus } : {}),
    ...(result.error ? { error: result.error } : {}),
  });
  await send.update(update.params());
}

async function list(store: LogItems, ruleID: string, limit: number) {
  const { table, log, send, asEntry } = store;
  const params = table
    .build(QueryCommand)
    .entities(log)
    .query({ partition: taskPk(ruleID), range: { beginsWith: NOTIFY_PREFIX } })
    .options({ reverse: true, limit })
    .params();
  return (await send.query(params)).items.map(asEntry);
}

async function cursor(store: LogItems, ruleID: string) {
  const { ruleStates, send } = store;
  const get = ruleStates.build(GetItemCommand).key({ ruleID }).options({ consistent: true });
  const stored = await send.get(get.params());
  return stored ? ruleStates.build(EntityFormatter).format(stored).cursor : undefined;
}

async function setCursor(store: LogItems, ruleID: string, cursor: string) {
  const { ruleStates, send } = store;
  await send.put(ruleStates.build(PutItemCommand).item({ ruleID, cursor }).params());
}

export type NotificationLogStore = ReturnType<typeof createNotificationLogStore>;
