import { ORG_QUOTA_STORE } from '../auth/org-quota';
import type { SecretBox } from '../auth/secrets';
import type { AuthStore } from '../auth/store';
import type { TargetPolicy } from '../net/address-policy';
import type { RunService } from '../run/run-service';
import type { AwsTargetRunners } from '../runners/aws-targets';
import { RUN_STORE } from '../store/run-store';
import { TASK_STORE } from '../store/task-store';
import type { TaskService } from '../task/task-service';
import type { StatusStore } from './checks/status-store';
import type { EndpointStore } from './notifications/endpoint-store';
import type { NotificationLogStore } from './notifications/log-store';

/** The core's services and the systems' stores, as the composition root builds them (lib/composition/systems.ts). */
export interface CoreServices {
  readonly taskService: TaskService;
  readonly runService: RunService;
  readonly targetPolicy: TargetPolicy;
  readonly statuses: StatusStore;
  readonly endpoints: EndpointStore;
  readonly notificationLog: NotificationLogStore;
}

/**
 * What the composition root hands a system's routes. Thunks, so an API builds only
 * what its routes use: the authorizations API never builds the task services.
 */
export interface ApiServices {
  readonly core: () => CoreServices;
  readonly secrets: () => SecretBox;
  readonly authStore: () => AuthStore;
  /** Every permission resource of the registered APIs, in registry order. */
  readonly resources: readonly [string, ...string[]];
}

/** What the composition root hands a system's runner in the executor. */
export type RunnerServices = CoreServices & { readonly aws: AwsTargetRunners; readonly secrets: SecretBox };

/** The table uses of every API that manages a system's tasks and their runs. */
export const MANAGES_TASKS = [TASK_STORE.definitions, RUN_STORE.requests, ORG_QUOTA_STORE] as const;
