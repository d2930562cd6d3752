import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { UpdateItemCommand } from 'dynamodb-toolbox/entity/actions/update';
import { $add } from 'dynamodb-toolbox/entity/actions/update/symbols';
import { wrote } from '../store/items';
import { rotaTable, tableSender } from '../store/table';
import { orgQuotaEntity } from './entity';

export { ORG_QUOTA_STORE } from './table-uses';

/** Counts an org's tasks over all systems and refuses the one past the limit. */
export interface OrgQuota {
  readonly limit: number;
  /** Takes a slot; false when the org is at its limit. */
  acquire(orgID: string): Promise<boolean>;
  /** Gives a slot back (a task was deleted, or its create failed). */
  release(orgID: string): Promise<void>;
}

/**
 * One counter item per org, moved by conditional `ADD`s: O(1) per create, where
 * counting the org's tasks would read every one of them. Without transactions the
 * counter and the task are two writes; the slot is taken first and given back when the
 * create fails, so a crash in between can only leave the count too high (stricter),
 * never let an org past its limit.
 */
export function createOrgQuota({
  client,
  tableName,
  limit,
}: {
  client: DynamoDBClient;
  tableName: string;
  limit: number;
}): OrgQuota {
  const counters = orgQuotaEntity(rotaTable(tableName));
  const send = tableSender(client);
  return {
    limit,
    async acquire(orgID) {
      const update = counters
        .build(UpdateItemCommand)
        .item({ orgID, tasks: $add(1) })
        .options({
          condition: {
            or: [
              { attr: 'tasks', exists: false },
              { attr: 'tasks', lt: limit },
            ],
          },
        });
      return wrote(() => send.update(update.params()));
    },
    async release(orgID) {
      // A failed condition means the count is already zero (or was never taken): nothing to give back.
      const update = counters
        .build(UpdateItemCommand)
        .item({ orgID, tasks: $add(-1) })
        .options({ condition: { attr: 'tasks', gt: 0 } });
      await wrote(() => send.update(update.params()));
    },
  };
}
