import { BATCH_WRITE, DELETE, GET, PUT, QUERY, type TableUse, UPDATE } from './access';
import { INDEX, PARTITION } from './keys';

/**
 * What each part of the core's stores does to the table (see `TableUse`), declared apart
 * from the stores: systems, the construct and the function definitions read these to
 * derive grants, and importing them must not bring a store's data-access code into a
 * bundle that never opens the table.
 */

/** What each part of the task store does to the table (see `TableUse`). */
export const TASK_STORE = {
  /**
   * create, get, replaceDefinition, delete, list: the API functions; withCompletions
   * queries the task's runs since its completion checkpoint.
   */
  definitions: {
    name: 'task store: definitions',
    actions: [PUT, GET, UPDATE, DELETE, QUERY],
    keyPrefixes: [PARTITION.task],
    queries: [INDEX.byOrgType],
  },
  /** create: adds the task's org to its type's directory (`ORGS#<type>`). */
  registersOrgs: { name: 'task store: org directory', actions: [UPDATE], keyPrefixes: [PARTITION.orgs] },
  /** list without an org: the operator's every-org list reads the type's directory. */
  listsAcrossOrgs: { name: 'task store: every-org list', actions: [GET], keyPrefixes: [PARTITION.orgs] },
  /** list only: an API that checks which tasks refer to something. */
  lists: { name: 'task store: list', queries: [INDEX.byOrgType] },
  /** queryDue, advanceSchedule: the scheduler. */
  schedule: {
    name: 'task store: schedule',
    actions: [UPDATE],
    keyPrefixes: [PARTITION.task],
    queries: [INDEX.due],
  },
  /** get: the executor reads the task it runs. */
  reads: { name: 'task store: get', actions: [GET], keyPrefixes: [PARTITION.task] },
  /**
   * recordCompletion: whoever finishes a run. It reads the task when the caller has not,
   * and the runs since the checkpoint when it writes a new one.
   */
  completions: {
    name: 'task store: recordCompletion',
    actions: [GET, QUERY, UPDATE],
    keyPrefixes: [PARTITION.task],
  },
} as const satisfies Record<string, TableUse>;

export const RUN_STORE = {
  /** create, get, list, requestCancel, deleteAllForTask: the runs API. */
  requests: {
    name: 'run store: requests',
    actions: [PUT, GET, QUERY, UPDATE, BATCH_WRITE],
    keyPrefixes: [PARTITION.task],
  },
  /** create only: a manual run requested by an event (the run-requests function). */
  creates: { name: 'run store: create', actions: [PUT], keyPrefixes: [PARTITION.task] },
  /** get, claim, heartbeat, flushLog, finish, create (retries), failUnfinished: the executor. */
  execution: { name: 'run store: execution', actions: [GET, PUT, UPDATE], keyPrefixes: [PARTITION.task] },
  /** failUnfinished: the dead-letter function. */
  failures: { name: 'run store: failUnfinished', actions: [UPDATE], keyPrefixes: [PARTITION.task] },
  /** queryOpen, inspect, postponeOpen: the reconciler. */
  reconciliation: {
    name: 'run store: reconciliation',
    actions: [GET, UPDATE],
    keyPrefixes: [PARTITION.task],
    queries: [INDEX.open],
  },
} as const satisfies Record<string, TableUse>;

/** acquire (Query + conditional put), extend, release: the executor (see `TableUse`). */
export const LEASE_STORE = {
  name: 'lease store',
  actions: [QUERY, PUT, UPDATE, DELETE],
  keyPrefixes: [PARTITION.task],
} as const satisfies TableUse;
