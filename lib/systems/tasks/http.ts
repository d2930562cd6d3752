import { InvalidError } from '../../errors';
import type { RouteDef } from '../../http/api-handler';
import { pageLinks } from '../../http/paging';
import { type ApiRequest, bodyOf, param, queryOf } from '../../http/request';
import { json, noContent } from '../../http/response';
import { checkTargetUrl, type TargetPolicy } from '../../net/address-policy';
import type { Task, TaskDefinition, TaskPatch } from '../../task/model';
import type { ScopedTaskService } from '../../task/task-service';
import {
  listTasksQuery,
  type TaskCreateBody,
  type TaskMetadata,
  taskCreateBody,
  taskUpdateBody,
} from './api-schemas';
import { parseFluxTaskOptions } from './flux';

export const TASKS_BASE_PATH = '/api/v2/tasks';

type UserTask = Task & { metadata: TaskMetadata };

/** The InfluxDB Task object, plus Rota's fields. Secrets in target headers are redacted. */
export function toTaskJson(task: UserTask) {
  const self = `${TASKS_BASE_PATH}/${task.id}`;
  return {
    id: task.id,
    type: task.type,
    orgID: task.orgID,
    ownerID: task.ownerID,
    name: task.name,
    description: task.description,
    status: task.status,
    flux: task.metadata.flux ?? '',
    every: task.every,
    cron: task.cron,
    offset: task.offset,
    timezone: task.timezone,
    concurrency: task.concurrency,
    timeout: task.timeout,
    retry: task.retry,
    catchUp: task.catchUp,
    target: redactTarget(task.metadata.target),
    labels: [],
    nextRunAt: task.nextRunAt,
    latestCompleted: task.latestCompleted,
    latestSuccess: task.latestSuccess,
    latestFailure: task.latestFailure,
    lastRunStatus: task.lastRunStatus,
    lastRunError: task.lastRunError,
    createdAt: task.createdAt,
    updatedAt: task.updatedAt,
    links: {
      self,
      owners: `${self}/owners`,
      members: `${self}/members`,
      labels: `${self}/labels`,
      runs: `${self}/runs`,
      logs: `${self}/logs`,
    },
  };
}

const SECRET_HEADER =
  /^(authorization|proxy-authorization|cookie|x-api-key|api-key|x-auth-token)$|token|secret|key/i;

export function redactTarget(target: TaskMetadata['target']): TaskMetadata['target'] {
  if (target.kind !== 'http' || !target.headers) return target;
  const headers = Object.fromEntries(
    Object.entries(target.headers).map(([name, value]) => [
      name,
      SECRET_HEADER.test(name) ? '<redacted>' : value,
    ]),
  );
  return { ...target, headers };
}

/** InfluxDB body → TaskDefinition: the schedule may come from the Flux `option task` block. */
export function toDefinition(body: TaskCreateBody): TaskDefinition {
  const orgID = body.orgID ?? body.org;
  if (!orgID) throw new InvalidError('orgID is required');
  const flux = body.flux ? parseFluxTaskOptions(body.flux) : {};
  const every = body.every ?? (body.cron ? undefined : flux.every);
  const cron = body.cron ?? (body.every ? undefined : flux.cron);
  const definition: Record<string, unknown> = {
    orgID,
    ownerID: body.ownerID,
    name: body.name ?? flux.name,
    description: body.description,
    status: body.status,
    every,
    cron,
    offset: body.offset ?? flux.offset,
    timezone: body.timezone,
    concurrency: body.concurrency,
    timeout: body.timeout,
    retry: body.retry,
    catchUp: body.catchUp,
    metadata: { target: body.target, ...(body.flux ? { flux: body.flux } : {}) },
  };
  for (const key of Object.keys(definition)) if (definition[key] === undefined) delete definition[key];
  return definition as TaskDefinition;
}

function toPatch(body: ReturnType<typeof taskUpdateBody.parse>, current: UserTask | undefined): TaskPatch {
  const { flux, target, ...rest } = body;
  const patch: TaskPatch = { ...rest } as TaskPatch;
  if (flux !== undefined) {
    const options = parseFluxTaskOptions(flux);
    patch.name ??= options.name;
    if (patch.every === undefined && patch.cron === undefined) {
      if (options.every) patch.every = options.every;
      if (options.cron) patch.cron = options.cron;
    }
    patch.offset ??= options.offset;
  }
  if (flux !== undefined || target !== undefined) {
    patch.metadata = {
      ...(current?.metadata ?? {}),
      ...(target ? { target } : {}),
      ...(flux !== undefined ? { flux } : {}),
    };
  }
  return patch;
}

function ifMatchVersion(req: ApiRequest): number | undefined {
  const raw = req.headers['if-match'];
  if (raw === undefined) return undefined;
  const version = Number(raw.replace(/^W\//, '').replaceAll('"', ''));
  if (!Number.isInteger(version) || version < 1)
    throw new InvalidError('If-Match must be a task version such as "3"');
  return version;
}

const etag = (task: Task) => ({ etag: `"${task.version}"` });

/** The user-task system's HTTP translation: one route, one TaskService call, one response shape. */
export function taskRoutes(tasks: ScopedTaskService<TaskMetadata>, policy: TargetPolicy): RouteDef[] {
  // A literal forbidden address is refused at once; hostnames are checked again when each run connects.
  const checkTarget = (target: TaskMetadata['target'] | undefined) => {
    if (target?.kind === 'http') checkTargetUrl(target.url, policy);
  };
  return [
    {
      method: 'POST',
      path: TASKS_BASE_PATH,
      handler: async (req) => {
        const body = bodyOf(req, taskCreateBody, 'invalid task');
        checkTarget(body.target);
        const task = await tasks.create(req.access, toDefinition(body));
        return json(201, toTaskJson(task), etag(task));
      },
    },
    {
      method: 'GET',
      path: TASKS_BASE_PATH,
      handler: async (req) => {
        const query = queryOf(req, listTasksQuery);
        const orgID = query.orgID ?? query.org ?? req.access.orgID;
        if (!orgID) throw new InvalidError('orgID is required');
        const page = await tasks.list(req.access, { ...query, orgID });
        const linkQuery = { orgID, limit: query.limit, name: query.name, status: query.status };
        return json(200, {
          tasks: page.tasks.map(toTaskJson),
          links: pageLinks(TASKS_BASE_PATH, linkQuery, page.tasks.at(-1)?.id, page.more),
        });
      },
    },
    {
      method: 'GET',
      path: `${TASKS_BASE_PATH}/{id}`,
      handler: async (req) => {
        const task = await tasks.get(req.access, param(req, 'id'));
        return json(200, toTaskJson(task), etag(task));
      },
    },
    {
      method: 'PATCH',
      path: `${TASKS_BASE_PATH}/{id}`,
      handler: async (req) => {
        const body = bodyOf(req, taskUpdateBody, 'invalid update');
        checkTarget(body.target);
        const id = param(req, 'id');
        const current =
          body.flux !== undefined || body.target !== undefined ? await tasks.get(req.access, id) : undefined;
        const task = await tasks.update(req.access, id, toPatch(body, current), ifMatchVersion(req));
        return json(200, toTaskJson(task), etag(task));
      },
    },
    {
      method: 'DELETE',
      path: `${TASKS_BASE_PATH}/{id}`,
      handler: async (req) => {
        await tasks.delete(req.access, param(req, 'id'));
        return noContent();
      },
    },
  ];
}
