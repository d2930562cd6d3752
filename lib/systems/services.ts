import { ORG_QUOTA_STORE } from '../auth/org-quota';
import type { SecretBox } from '../auth/secrets';
import type { AuthStore } from '../auth/store';
import type { AwsTargetRunners } from '../runners/aws-targets';
import type { Runtime } from '../runtime';
import { RUN_STORE } from '../store/run-store';
import { TASK_STORE } from '../store/task-store';

/**
 * What the composition root hands a system's routes. Thunks, so an API builds only
 * what its routes use: the authorizations API never builds the task runtime.
 */
export interface ApiServices {
  readonly runtime: () => Runtime;
  readonly secrets: () => SecretBox;
  readonly authStore: () => AuthStore;
  /** Every permission resource of the registered APIs, in registry order. */
  readonly resources: readonly [string, ...string[]];
}

/** What the composition root hands a system's runner in the executor. */
export type RunnerServices = Runtime & { readonly aws: AwsTargetRunners };

/** The table uses of every API that manages a system's tasks and their runs. */
export const MANAGES_TASKS = [TASK_STORE.definitions, RUN_STORE.requests, ORG_QUOTA_STORE] as const;
