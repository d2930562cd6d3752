import { targetPolicy } from '../../composition/core';
import { secretBox } from '../../composition/secrets';
import { statusStore } from '../checks/parts';
import { STATUS_STORE } from '../checks/table-uses';
import type { RunnerServices } from '../services';
import { engine } from '../system';
import { endpointStore, notificationLogStore } from './parts';
import { notificationRulesSystem } from './rule-model';
import { createRuleRunner } from './rule-runner';
import { ENDPOINT_STORE, NOTIFICATION_LOG_STORE } from './table-uses';

/** Each run reads the org's new check statuses and notifies the rule's endpoint. */
export const rulesEngine = engine({
  source: import.meta.url,
  definition: notificationRulesSystem,
  runner: ({ get }: RunnerServices) =>
    createRuleRunner({
      statuses: get(statusStore),
      endpoints: get(endpointStore),
      log: get(notificationLogStore),
      policy: get(targetPolicy),
      secrets: get(secretBox),
    }),
  table: [STATUS_STORE.orgReads, ENDPOINT_STORE.reads, NOTIFICATION_LOG_STORE.writes],
});
