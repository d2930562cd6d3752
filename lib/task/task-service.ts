import { ulid } from 'ulid';
import { ConflictError, ForbiddenError, NotFoundError } from '../errors';
import { logger } from '../observability/logger';
import type { TaskStore } from '../store/task-store';
import { parseOrThrow } from '../validation';
import {
  concurrencyFor,
  DEFAULT_CATCH_UP,
  scheduleShapeSchema,
  type Task,
  type TaskDefinition,
  type TaskPatch,
  taskDefinitionSchema,
  taskPatchSchema,
} from './model';
import { nextRunAfter, scheduleCursorAt } from './next-run';
import type { SystemDefinition } from './system-definition';

/**
 * Caps an org's tasks over all systems (lib/auth/org-quota.ts implements it). Declared
 * here, where it is used, so the task core depends on no auth module.
 */
export interface TaskQuota {
  readonly limit: number;
  /** Takes a slot; false when the org is at its limit. */
  acquire(orgID: string): Promise<boolean>;
  /** Gives a slot back (a task was deleted, or its create failed). */
  release(orgID: string): Promise<void>;
}

/**
 * Who is calling. `orgID` undefined means the operator, who may act on any org;
 * otherwise every read and write is confined to that org.
 */
export interface Access {
  orgID?: string | undefined;
}

export const OPERATOR: Access = {};

export interface ListOptions {
  /** Undefined: the caller's org, or every org for the operator. */
  orgID?: string | undefined;
  after?: string | undefined;
  limit: number;
  name?: string | undefined;
  status?: 'active' | 'inactive' | undefined;
  ownerID?: string | undefined;
}

export interface TaskServiceDeps {
  tasks: TaskStore;
  now?: () => number;
  newID?: () => string;
  /** Called after a task is deleted, to remove its runs and leases. */
  onTaskDeleted?: (task: Task) => Promise<void>;
  /** Caps the tasks one org holds over all systems; no cap when absent. */
  quota?: TaskQuota;
}

/** The TaskService as one system sees it: every call is scoped to the system's type. */
export interface ScopedTaskService<M extends Record<string, unknown>> {
  readonly type: string;
  create(access: Access, definition: TaskDefinition): Promise<Task & { metadata: M }>;
  get(access: Access, id: string): Promise<Task & { metadata: M }>;
  list(access: Access, options: ListOptions): Promise<{ tasks: (Task & { metadata: M })[]; more: boolean }>;
  /**
   * `patch` may be a function of the current task, for changes that depend on it
   * (merging into metadata): it runs on every fresh read, so a retried write never
   * applies a patch computed from a stale task.
   */
  update(
    access: Access,
    id: string,
    patch: TaskPatch | ((current: Task & { metadata: M }) => TaskPatch),
    ifVersion?: number,
  ): Promise<Task & { metadata: M }>;
  delete(access: Access, id: string): Promise<void>;
  /**
   * The task with its latest* bookkeeping up to date (one Query on its own partition):
   * what an API shows. `get` and `list` return the stored checkpoint, which is all that
   * callers acting on a task need; a list shows its page with `withCompletionsAll`.
   */
  withCompletions<T extends Task>(task: T): Promise<T>;
}

const UPDATE_ATTEMPTS = 5;

/** One line per task change: what an operator watching local mode wants to see. */
function logTaskChange(change: 'created' | 'updated' | 'deleted', task: Task): void {
  logger.info(`${task.type} ${change}: ${task.name}`, {
    taskID: task.id,
    type: task.type,
    orgID: task.orgID,
    status: task.status,
    every: task.every,
    cron: task.cron,
  });
}

/** What each operation of one system's TaskService scope works with. */
interface SystemTasks<M extends Record<string, unknown>> {
  readonly system: SystemDefinition<M>;
  readonly tasks: TaskStore;
  readonly now: () => number;
  readonly newID: () => string;
  readonly quota: TaskQuota | undefined;
  readonly onTaskDeleted: ((task: Task) => Promise<void>) | undefined;
}

type SystemTask<M> = Task & { metadata: M };

function visible<M extends Record<string, unknown>>(
  scope: SystemTasks<M>,
  access: Access,
  task: Task | undefined,
): task is SystemTask<M> {
  return (
    task !== undefined &&
    task.type === scope.system.type &&
    (access.orgID === undefined || access.orgID === task.orgID)
  );
}

async function loadTask<M extends Record<string, unknown>>(
  scope: SystemTasks<M>,
  access: Access,
  id: string,
): Promise<SystemTask<M>> {
  const task = await scope.tasks.get(id);
  // Another type's or another org's task is indistinguishable from a missing one.
  if (!visible(scope, access, task)) throw new NotFoundError('task not found');
  return task;
}

const checkMetadata = <M extends Record<string, unknown>>(scope: SystemTasks<M>, metadata: unknown): M =>
  parseOrThrow(scope.system.metadata, metadata, 'invalid metadata');

/** A new task of the system from a checked definition: defaults filled in, its schedule starting at `at`. */
function newTask<M extends Record<string, unknown>>(
  scope: SystemTasks<M>,
  definition: TaskDefinition,
  metadata: M,
  at: number,
): SystemTask<M> {
  const stamp = new Date(at).toISOString();
  const task: SystemTask<M> = {
    ...definition,
    metadata,
    id: scope.newID(),
    type: scope.system.type,
    description: definition.description ?? '',
    status: definition.status ?? 'active',
    catchUp: definition.catchUp ?? DEFAULT_CATCH_UP,
    concurrency: concurrencyFor(definition),
    latestScheduled: scheduleCursorAt(definition, at),
    createdAt: stamp,
    updatedAt: stamp,
    version: 1,
    revision: 1,
  };
  task.nextRunAt = task.status === 'active' ? nextRunAfter(task) : undefined;
  return task;
}

/** Stores a new task within its org's quota; a create that does not happen gives the slot back. */
async function insertWithinQuota(
  scope: Pick<SystemTasks<Record<string, unknown>>, 'tasks' | 'quota'>,
  task: Task,
): Promise<void> {
  if (scope.quota && !(await scope.quota.acquire(task.orgID))) {
    // 403, not 429: retrying will not help until the org deletes tasks.
    throw new ForbiddenError(`org has reached its limit of ${scope.quota.limit} tasks`);
  }
  let created = false;
  try {
    created = await scope.tasks.create(task);
  } finally {
    if (!created) await scope.quota?.release(task.orgID);
  }
  if (!created) throw new ConflictError('task id already exists');
}

async function createTask<M extends Record<string, unknown>>(
  scope: SystemTasks<M>,
  access: Access,
  input: TaskDefinition,
): Promise<SystemTask<M>> {
  const definition = parseOrThrow(taskDefinitionSchema, input, 'invalid task');
  if (access.orgID !== undefined && access.orgID !== definition.orgID) {
    throw new ForbiddenError('orgID does not match the caller');
  }
  const metadata = checkMetadata(scope, definition.metadata);
  const task = newTask(scope, definition, metadata, scope.now());
  await insertWithinQuota(scope, task);
  logTaskChange('created', task);
  return task;
}

async function listTasks<M extends Record<string, unknown>>(
  scope: SystemTasks<M>,
  access: Access,
  options: ListOptions,
): Promise<{ tasks: SystemTask<M>[]; more: boolean }> {
  const orgID = options.orgID ?? access.orgID;
  if (access.orgID !== undefined && access.orgID !== orgID) {
    throw new ForbiddenError('orgID does not match the caller');
  }
  const page = await scope.tasks.list({ ...options, orgID, type: scope.system.type });
  return page as { tasks: SystemTask<M>[]; more: boolean };
}

type PatchInput<M> = TaskPatch | ((current: SystemTask<M>) => TaskPatch);

/**
 * An optimistic update: read, apply, write if the version is still the one read. A
 * version that moved (the scheduler advanced, or another update won) is re-read and the
 * same patch re-applied, unless the caller pinned a version.
 */
async function updateTask<M extends Record<string, unknown>>(
  scope: SystemTasks<M>,
  access: Access,
  id: string,
  input: PatchInput<M>,
  ifVersion: number | undefined,
): Promise<SystemTask<M>> {
  const fixed =
    typeof input === 'function' ? undefined : parseOrThrow(taskPatchSchema, input, 'invalid update');
  for (let attempt = 0; attempt < UPDATE_ATTEMPTS; attempt++) {
    const current = await loadTask(scope, access, id);
    if (ifVersion !== undefined && ifVersion !== current.version) {
      throw new ConflictError(`task version is ${current.version}, not ${ifVersion}`);
    }
    const patch =
      fixed ??
      parseOrThrow(taskPatchSchema, (input as (task: SystemTask<M>) => TaskPatch)(current), 'invalid update');
    const next = applyPatch(current, patch, scope.now());
    next.metadata = checkMetadata(scope, next.metadata);
    const stored = await scope.tasks.replaceDefinition(next, current.version);
    if (stored) {
      logTaskChange('updated', stored);
      return stored as SystemTask<M>;
    }
    // A pinned version is a lost race; otherwise re-read and re-apply the same patch.
    if (ifVersion !== undefined) throw new ConflictError('task was changed concurrently; read it again');
  }
  throw new ConflictError('task is being changed concurrently; try again');
}

async function deleteTask<M extends Record<string, unknown>>(
  scope: SystemTasks<M>,
  access: Access,
  id: string,
): Promise<void> {
  const task = await loadTask(scope, access, id);
  if (!(await scope.tasks.delete(id, scope.system.type))) throw new NotFoundError('task not found');
  await scope.quota?.release(task.orgID);
  await scope.onTaskDeleted?.(task);
  logTaskChange('deleted', task);
}

export interface TaskService {
  forSystem<M extends Record<string, unknown>>(system: SystemDefinition<M>): ScopedTaskService<M>;
}

export function createTaskService(deps: TaskServiceDeps): TaskService {
  const now = deps.now ?? Date.now;
  const newID = deps.newID ?? (() => ulid().toLowerCase());
  const forSystem = <M extends Record<string, unknown>>(
    system: SystemDefinition<M>,
  ): ScopedTaskService<M> => {
    const scope: SystemTasks<M> = {
      system,
      tasks: deps.tasks,
      now,
      newID,
      quota: deps.quota,
      onTaskDeleted: deps.onTaskDeleted,
    };
    return {
      type: system.type,
      create: (access, definition) => createTask(scope, access, definition),
      get: (access, id) => loadTask(scope, access, id),
      list: (access, options) => listTasks(scope, access, options),
      update: (access, id, patch, ifVersion) => updateTask(scope, access, id, patch, ifVersion),
      delete: (access, id) => deleteTask(scope, access, id),
      withCompletions: (task) => deps.tasks.withCompletions(task),
    };
  };
  return { forSystem };
}

const SCHEDULE_FIELDS = ['every', 'cron', 'offset', 'timezone', 'jitter', 'startAt', 'endAt'] as const;

/** Merges a patch into a task and recomputes the schedule cursor when the schedule changed. */
export function applyPatch<T extends Task>(current: T, patch: TaskPatch, at: number): T {
  const next: T = structuredClone(current);
  const assign = (field: keyof TaskPatch & keyof Task, value: unknown) => {
    (next as Record<string, unknown>)[field] = value === null ? undefined : value;
  };
  for (const [field, value] of Object.entries(patch) as [keyof TaskPatch & keyof Task, unknown][]) {
    if (value !== undefined) assign(field, value);
  }
  // Setting one kind of schedule replaces the other, as InfluxDB does.
  if (patch.every) next.cron = undefined;
  if (patch.cron) next.every = undefined;
  if (patch.description === null) next.description = '';
  next.concurrency = concurrencyFor(next);

  parseOrThrow(
    scheduleShapeSchema,
    {
      every: next.every,
      cron: next.cron,
      timezone: next.timezone,
      jitter: next.jitter,
      startAt: next.startAt,
      endAt: next.endAt,
    },
    'invalid update',
  );

  const scheduleChanged = SCHEDULE_FIELDS.some((f) => next[f] !== current[f]);
  const activated = current.status !== 'active' && next.status === 'active';
  if (scheduleChanged || activated) {
    // A new schedule starts from now: no catch-up for instants of the old one, or for
    // time spent inactive.
    next.latestScheduled = scheduleCursorAt(next, at);
    next.revision = current.revision + 1;
  }
  next.nextRunAt = next.status === 'active' ? nextRunAfter(next) : undefined;
  next.updatedAt = new Date(at).toISOString();
  return next;
}
