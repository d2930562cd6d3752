import type * as z from 'zod';
import { isSecretHeader, originChange, REDACTED, type SecretBox, sealHeaders } from '../../auth/secrets';
import { ForbiddenError, InvalidError } from '../../errors';
import { checkTaskPageLimit, pageLinks } from '../../http/paging';
import { type ApiRequest, bodyOf, param, queryOf } from '../../http/request';
import { json, noContent } from '../../http/response';
import { created, deleted, named, ok, type RouteDef, type RouteOf } from '../../http/route';
import { checkTargetUrl, type TargetPolicy } from '../../net/address-policy';
import { awsScope, checkAwsTarget } from '../../runners/aws-resources';
import { type FluxTarget, TARGET_KINDS } from '../../runners/target';
import { withCompletionsAll } from '../../task/completions';
import type { Task, TaskDefinition, TaskPatch } from '../../task/model';
import { nextRunFrom, upcomingRuns } from '../../task/next-run';
import type { ScopedTaskService } from '../../task/task-service';
import type { AttachedLabels, LabelJson } from '../labels/mapping-routes';
import {
  listTasksQuery,
  type TaskCreateBody,
  type TaskMetadata,
  type TaskUpdateBody,
  taskCreateBody,
  taskUpdateBody,
  USER_TASK_TYPE,
  upcomingQuery,
} from './api-schemas';
import { parseFluxTaskOptions } from './flux';
import { taskSchema, tasksSchema, upcomingSchema } from './responses';

export const TASKS_BASE_PATH = '/api/v2/tasks';

type UserTask = Task & { metadata: TaskMetadata };

/**
 * The InfluxDB Task object, plus Rota's fields. Secrets in target headers are redacted.
 * `type` is InfluxDB's (`basic`), not the system's internal type, which stays an engine
 * detail. `links` names only what this API serves: owners and members are not
 * served, and the contract requires none of the links.
 */
export function toTaskJson(task: UserTask, labels: LabelJson[] = []): z.input<typeof taskSchema> {
  const self = `${TASKS_BASE_PATH}/${task.id}`;
  return {
    id: task.id,
    type: USER_TASK_TYPE,
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
    jitter: task.jitter,
    startAt: task.startAt,
    endAt: task.endAt,
    concurrency: task.concurrency,
    timeout: task.timeout,
    retry: task.retry,
    catchUp: task.catchUp,
    overlap: task.overlap ?? 'queue',
    target: redactTarget(task.metadata.target),
    labels,
    // The next instant that will run, from the schedule; the scheduler's cursor is named as such.
    nextRunAt: task.status === 'active' ? nextRunFrom(task, Date.now()) : undefined,
    scheduleCursor: task.latestScheduled,
    latestCompleted: task.latestCompleted,
    latestSuccess: task.latestSuccess,
    latestFailure: task.latestFailure,
    lastRunStatus: task.lastRunStatus,
    lastRunError: task.lastRunError,
    createdAt: task.createdAt,
    updatedAt: task.updatedAt,
    links: {
      self,
      runs: `${self}/runs`,
      logs: `${self}/logs`,
    },
  };
}

export function redactTarget(target: TaskMetadata['target']): TaskMetadata['target'] {
  if ((target.kind !== 'http' && target.kind !== 'flux') || target.url === undefined) return target;
  const url = withoutPassword(target.url);
  if (!target.headers) return url === target.url ? target : { ...target, url };
  const headers = Object.fromEntries(
    Object.entries(target.headers).map(([name, value]) => [name, isSecretHeader(name) ? REDACTED : value]),
  );
  return { ...target, url, headers };
}

function withoutPassword(url: string): string {
  if (!url.includes('@')) return url;
  try {
    const parsed = new URL(url);
    if (!parsed.password) return url;
    parsed.password = 'redacted';
    return parsed.href;
  } catch {
    return url;
  }
}

/**
 * A target as it is stored: credentials in the URL move into an `Authorization:
 * Basic` header (what the runner would send for them anyway), and credential headers
 * are sealed. So the stored task, and every log line that prints it, holds no
 * credential in clear text. A header sent back as `<redacted>` keeps the stored one
 * only while the URL keeps its origin.
 */
export async function sealTarget(
  target: TaskMetadata['target'],
  secrets: SecretBox,
  current?: TaskMetadata['target'],
): Promise<TaskMetadata['target']> {
  if ((target.kind !== 'http' && target.kind !== 'flux') || target.url === undefined) return target;
  let url = target.url;
  let headers = target.headers;
  const parsed = new URL(target.url);
  if (parsed.username || parsed.password) {
    const basic = `${decodeOrKeep(parsed.username)}:${decodeOrKeep(parsed.password)}`;
    parsed.username = '';
    parsed.password = '';
    url = parsed.href;
    const hasAuthorization = Object.keys(headers ?? {}).some((h) => h.toLowerCase() === 'authorization');
    // An explicit Authorization header wins, as it does for node's `auth` option.
    if (!hasAuthorization) {
      headers = { ...headers, Authorization: `Basic ${Buffer.from(basic).toString('base64')}` };
    }
  }
  if (!headers) return { ...target, url };
  const stored = current?.kind === target.kind && 'url' in current ? current : undefined;
  return {
    ...target,
    url,
    headers: await sealHeaders(headers, secrets, stored?.headers, {
      field: 'target.headers',
      moved: originChange(stored?.url, url),
    }),
  };
}

/** URL user info as the user meant it; a stray `%` is kept as written rather than failing the request. */
function decodeOrKeep(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

/**
 * InfluxDB's clients create a task with `{orgID, flux}` alone: it runs its script on
 * the deployment's InfluxDB. A `flux` target needs a script to run.
 */
function withTarget(body: TaskCreateBody): TaskCreateBody & { target: TaskMetadata['target'] } {
  const target = body.target ?? (body.flux ? ({ kind: 'flux' } as const) : undefined);
  if (target === undefined) {
    throw new InvalidError(
      `invalid task: target: required unless flux is given (an object with kind ${TARGET_KINDS.join(', ')})`,
    );
  }
  if (target.kind === 'flux' && !body.flux) {
    throw new InvalidError('invalid task: flux: required with a target of kind flux (the script to run)');
  }
  return { ...body, target };
}

/** InfluxDB body → TaskDefinition: the schedule may come from the Flux `option task` block. */
export function toDefinition(body: TaskCreateBody, callerOrgID?: string): TaskDefinition {
  // An org token's org is the default; a different orgID in the body is refused by the TaskService.
  const orgID = body.orgID ?? body.org ?? callerOrgID;
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
    jitter: body.jitter,
    startAt: body.startAt,
    endAt: body.endAt,
    concurrency: body.concurrency,
    timeout: body.timeout,
    retry: body.retry,
    catchUp: body.catchUp,
    overlap: body.overlap,
    metadata: { target: body.target, ...(body.flux ? { flux: body.flux } : {}) },
  };
  for (const key of Object.keys(definition)) if (definition[key] === undefined) delete definition[key];
  return definition as TaskDefinition;
}

/** The update as a function of the current task, so metadata merges into a fresh read. */
function toPatch(body: ReturnType<typeof taskUpdateBody.parse>): (current: UserTask) => TaskPatch {
  return (current) => patchOf(body, current);
}

function patchOf(body: ReturnType<typeof taskUpdateBody.parse>, current: UserTask): TaskPatch {
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
      ...current.metadata,
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

/** A literal forbidden address is refused at once; hostnames are checked again when each run connects. */
function checkTarget(target: TaskMetadata['target'] | undefined, policy: TargetPolicy): void {
  if (target === undefined) return;
  if (target.kind === 'http' || target.kind === 'flux') {
    if (target.url === undefined) checkDeploymentFlux(target);
    else checkTargetUrl(target.url, policy);
    return;
  }
  if (!policy.awsRegion) throw new InvalidError('AWS targets are not enabled in this deployment');
  checkAwsTarget(target, awsScope(policy.awsRegion, policy.ownQueueUrls), 'target.');
}

/**
 * The deployment's InfluxDB runs with the operator's token and org: a task may not send
 * its own credentials or pick another org there (that would reach the operator's data).
 */
function checkDeploymentFlux(target: Pick<FluxTarget, 'headers' | 'org'>): void {
  for (const field of ['headers', 'org'] as const) {
    if (target[field] !== undefined) {
      throw new InvalidError(
        `target.${field}: only with target.url; the deployment's InfluxDB runs with the operator's token and org`,
      );
    }
  }
}

/** A PATCH's new target, sealed over the stored one; a `flux` target needs a script, sent or stored. */
async function sealedUpdate(
  body: TaskUpdateBody & { target: TaskMetadata['target'] },
  stored: UserTask,
  secrets: SecretBox,
): Promise<TaskUpdateBody> {
  if (body.target.kind === 'flux' && !(body.flux ?? stored.metadata.flux)) {
    throw new InvalidError('invalid update: flux: required with a target of kind flux (the script to run)');
  }
  return { ...body, target: await sealTarget(body.target, secrets, stored.metadata.target) };
}

/** What every tasks route shares. */
interface TaskRoutesContext {
  readonly tasks: ScopedTaskService<TaskMetadata>;
  readonly policy: TargetPolicy;
  readonly secrets: SecretBox;
  readonly labels: AttachedLabels;
}

type TaskRoute = RouteOf<TaskRoutesContext>;

const createTask: TaskRoute = ({ tasks, policy, secrets }) => ({
  method: 'POST',
  path: TASKS_BASE_PATH,
  summary: 'Create a task',
  body: named('TaskCreateRequest', taskCreateBody),
  responses: created('The created task', taskSchema),
  handler: async (req) => {
    const body = withTarget(bodyOf(req, taskCreateBody, 'invalid task'));
    checkTarget(body.target, policy);
    const definition = toDefinition(body, req.access.orgID);
    // Checked before sealing, so a stranger to the org cannot make KMS calls on its behalf.
    if (req.access.orgID !== undefined && req.access.orgID !== definition.orgID) {
      throw new ForbiddenError('orgID does not match the caller');
    }
    const task = await tasks.create(req.access, {
      ...definition,
      metadata: { ...definition.metadata, target: await sealTarget(body.target, secrets) },
    });
    return json(201, toTaskJson(task), etag(task));
  },
});

const listTasks: TaskRoute = ({ tasks, labels }) => ({
  method: 'GET',
  path: TASKS_BASE_PATH,
  summary: 'List tasks',
  query: listTasksQuery,
  responses: ok('Tasks', tasksSchema),
  handler: async (req) => {
    const { type, user, ...query } = queryOf(req, listTasksQuery);
    // No org for the operator: every org's tasks, as InfluxDB's operator token lists them.
    const orgID = query.orgID ?? query.org ?? req.access.orgID;
    const limit = checkTaskPageLimit(query.limit);
    const linkQuery = { orgID, limit, name: query.name, status: query.status, user, type };
    const page = await tasks.list(req.access, { ...query, orgID, limit, ownerID: user });
    // Every task of this system is InfluxDB `basic`: a `system` filter matches none of them.
    if (type !== undefined && type !== USER_TASK_TYPE) page.tasks = [];
    const labelsOf = page.tasks.length ? await labels.forPage(page.tasks) : () => [];
    return json(200, {
      tasks: (await withCompletionsAll(tasks, page.tasks)).map((task) => toTaskJson(task, labelsOf(task.id))),
      links: pageLinks(TASKS_BASE_PATH, linkQuery, page.tasks.at(-1)?.id, page.more),
    });
  },
});

const getTask: TaskRoute = ({ tasks, labels }) => ({
  method: 'GET',
  path: `${TASKS_BASE_PATH}/{id}`,
  summary: 'Get a task',
  responses: ok('Task', taskSchema),
  handler: async (req) => {
    const task = await tasks.withCompletions(await tasks.get(req.access, param(req, 'id')));
    return json(200, toTaskJson(task, await labels.of(task.orgID, task.id)), etag(task));
  },
});

const updateTask: TaskRoute = ({ tasks, policy, secrets, labels }) => ({
  method: 'PATCH',
  path: `${TASKS_BASE_PATH}/{id}`,
  summary: 'Update a task',
  body: named('TaskUpdateRequest', taskUpdateBody),
  responses: ok('The updated task', taskSchema),
  handler: async (req) => {
    const body = bodyOf(req, taskUpdateBody, 'invalid update');
    checkTarget(body.target, policy);
    const id = param(req, 'id');
    // Sealing is async and needs the stored target only for headers sent back redacted.
    const target = body.target;
    const sealed =
      target === undefined
        ? body
        : await sealedUpdate({ ...body, target }, await tasks.get(req.access, id), secrets);
    const task = await tasks.withCompletions(
      await tasks.update(req.access, id, toPatch(sealed), ifMatchVersion(req)),
    );
    return json(200, toTaskJson(task, await labels.of(task.orgID, task.id)), etag(task));
  },
});

const upcomingTaskRuns: TaskRoute = ({ tasks }) => ({
  method: 'GET',
  path: `${TASKS_BASE_PATH}/{id}/upcoming`,
  summary: "A task's next scheduled instants and when each runs",
  query: upcomingQuery,
  responses: ok('Upcoming runs', upcomingSchema),
  handler: async (req) => {
    const { limit } = queryOf(req, upcomingQuery);
    const task = await tasks.get(req.access, param(req, 'id'));
    // Read only: computed from the schedule, nothing is planned or written.
    const upcoming = task.status === 'active' ? upcomingRuns(task, Date.now(), limit) : [];
    return json(200, {
      upcoming: upcoming.map(({ scheduledFor, runAt }) => ({
        scheduledFor: new Date(scheduledFor).toISOString(),
        runAt: new Date(runAt).toISOString(),
      })),
    });
  },
});

const deleteTask: TaskRoute = ({ tasks }) => ({
  method: 'DELETE',
  path: `${TASKS_BASE_PATH}/{id}`,
  summary: 'Delete a task',
  responses: deleted,
  handler: async (req) => {
    await tasks.delete(req.access, param(req, 'id'));
    return noContent();
  },
});

const TASK_ROUTES: readonly TaskRoute[] = [
  createTask,
  listTasks,
  getTask,
  updateTask,
  upcomingTaskRuns,
  deleteTask,
];

/** The user-task system's HTTP translation: one route, one TaskService call, one response shape. */
export function taskRoutes(
  tasks: ScopedTaskService<TaskMetadata>,
  policy: TargetPolicy,
  secrets: SecretBox,
  labels: AttachedLabels,
): RouteDef[] {
  return TASK_ROUTES.map((route) => route({ tasks, policy, secrets, labels }));
}
