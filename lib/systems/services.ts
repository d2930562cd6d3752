import { ORG_QUOTA_STORE } from '../auth/table-uses';
import type { Part } from '../composition/root';
import { RUN_STORE, TASK_STORE } from '../store/table-uses';

/**
 * What the composition root hands a system's routes and its runner: its parts
 * (`taskService`, `secretBox`, … in lib/composition/*.ts, or a system's own, such as
 * the checks' `statusStore`), each built on first use and shared by the process. A
 * bundle holds the parts its code names and no other, so the authorizations API's
 * carries no task service, and no KMS or SQS client.
 */
export interface SystemServices {
  get<T>(part: Part<T>): T;
}

/** What a system's routes get. */
export interface ApiServices extends SystemServices {
  /** Every permission resource of the registered APIs, in registry order. */
  readonly resources: readonly [string, ...string[]];
}

/** What a system's runner gets in the executor. */
export type RunnerServices = SystemServices;

/** The table uses of every API that manages a system's tasks and their runs. */
export const MANAGES_TASKS = [
  TASK_STORE.definitions,
  TASK_STORE.registersOrgs,
  RUN_STORE.requests,
  ORG_QUOTA_STORE,
] as const;
