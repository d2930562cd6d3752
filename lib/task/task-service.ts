import { ulid } from 'ulid';
import { ConflictError, ForbiddenError, NotFoundError } from '../errors';
import { logger } from '../observability/logger';
import type { TaskStore } from '../store/task-store';
import { parseOrThrow } from '../validation';
import {
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
 * Who is calling. `orgID` undefined means the operator, who may act on any org;
 * otherwise every read and write is confined to that org.
 */
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

export interface Access {
  orgID?: string | undefined;
}

export const OPERATOR: Access = {};

export interface ListOptions {
  orgID: string;
  after?: string | undefined;
  limit: number;
  name?: string | undefined;
  status?: 'active' | 'inactive' | undefined;
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

export function createTaskService(deps: TaskServiceDeps) {
  const now = deps.now ?? Date.now;
  const newID = deps.newID ?? (() => ulid().toLowerCase());

  function forSystem<M extends Record<string, unknown>>(system: SystemDefinition<M>): ScopedTaskService<M> {
    type Typed = Task & { metadata: M };

    const visible = (access: Access, task: Task | undefined): task is Typed =>
      task !== undefined &&
      task.type === system.type &&
      (access.orgID === undefined || access.orgID === task.orgID);

    const load = async (access: Access, id: string): Promise<Typed> => {
      const task = await deps.tasks.get(id);
      // Another type's or another org's task is indistinguishable from a missing one.
      if (!visible(access, task)) throw new NotFoundError('task not found');
      return task;
    };

    const checkMetadata = (metadata: unknown): M =>
      parseOrThrow(system.metadata, metadata, 'invalid metadata');

    return {
      type: system.type,

      async create(access, input) {
        const definition = parseOrThrow(taskDefinitionSchema, input, 'invalid task');
        if (access.orgID !== undefined && access.orgID !== definition.orgID) {
          throw new ForbiddenError('orgID does not match the caller');
        }
        const metadata = checkMetadata(definition.metadata);
        const at = now();
        const stamp = new Date(at).toISOString();
        const task: Typed = {
          ...definition,
          metadata,
          id: newID(),
          type: system.type,
          description: definition.description ?? '',
          status: definition.status ?? 'active',
          catchUp: definition.catchUp ?? DEFAULT_CATCH_UP,
          latestScheduled: scheduleCursorAt(definition, at),
          createdAt: stamp,
          updatedAt: stamp,
          version: 1,
          revision: 1,
        };
        task.nextRunAt = task.status === 'active' ? nextRunAfter(task) : undefined;
        if (deps.quota && !(await deps.quota.acquire(task.orgID))) {
          // 403, not 429: retrying will not help until the org deletes tasks.
          throw new ForbiddenError(`org has reached its limit of ${deps.quota.limit} tasks`);
        }
        let created = false;
        try {
          created = await deps.tasks.create(task);
        } finally {
          if (!created) await deps.quota?.release(task.orgID);
        }
        if (!created) throw new ConflictError('task id already exists');
        logTaskChange('created', task);
        return task;
      },

      get: load,

      async list(access, options) {
        if (access.orgID !== undefined && access.orgID !== options.orgID) {
          throw new ForbiddenError('orgID does not match the caller');
        }
        const page = await deps.tasks.list({ ...options, type: system.type });
        return page as { tasks: Typed[]; more: boolean };
      },

      async update(access, id, input, ifVersion) {
        const fixed =
          typeof input === 'function' ? undefined : parseOrThrow(taskPatchSchema, input, 'invalid update');
        for (let attempt = 0; attempt < UPDATE_ATTEMPTS; attempt++) {
          const current = await load(access, id);
          if (ifVersion !== undefined && ifVersion !== current.version) {
            throw new ConflictError(`task version is ${current.version}, not ${ifVersion}`);
          }
          const patch =
            fixed ??
            parseOrThrow(taskPatchSchema, (input as (task: Typed) => TaskPatch)(current), 'invalid update');
          const next = applyPatch(current, patch, now());
          next.metadata = checkMetadata(next.metadata);
          const stored = await deps.tasks.replaceDefinition(next, current.version);
          if (stored) {
            logTaskChange('updated', stored);
            return stored as Typed;
          }
          // The version moved under us (the scheduler advanced, or another update won).
          // A pinned version is a lost race; otherwise re-read and re-apply the same patch.
          if (ifVersion !== undefined)
            throw new ConflictError('task was changed concurrently; read it again');
        }
        throw new ConflictError('task is being changed concurrently; try again');
      },

      async delete(access, id) {
        const task = await load(access, id);
        if (!(await deps.tasks.delete(id, system.type))) throw new NotFoundError('task not found');
        await deps.quota?.release(task.orgID);
        await deps.onTaskDeleted?.(task);
        logTaskChange('deleted', task);
      },
    };
  }

  return { forSystem };
}

export type TaskService = ReturnType<typeof createTaskService>;

const SCHEDULE_FIELDS = ['every', 'cron', 'offset', 'timezone'] as const;

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

  parseOrThrow(
    scheduleShapeSchema,
    { every: next.every, cron: next.cron, timezone: next.timezone },
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
