import * as z from 'zod';
import { isSecretHeader, originChange, REDACTED, type SecretBox, sealHeaders } from '../../auth/secrets';
import { pageLinks } from '../../http/paging';
import { bodyOf, param, queryOf } from '../../http/request';
import { json, noContent } from '../../http/response';
import { created, deleted, named, ok, type RouteDef, type RouteOf } from '../../http/route';
import { checkTargetUrl, type TargetPolicy } from '../../net/address-policy';
import { withCompletionsAll } from '../../task/completions';
import type { Task, TaskDefinition } from '../../task/model';
import { taskDefinitionFields } from '../../task/model';
import type { ScopedTaskService } from '../../task/task-service';
import { orgListQuery, orgOf } from '../shared/org';
import { splitPatch } from '../shared/patch';
import { type CheckMetadata, levelSchema, probeSchema, tagsSchema, thresholdSchema } from './model';
import { checkSchema, checkStatusesSchema, checksSchema } from './responses';
import type { StatusStore } from './status-store';

export const CHECKS_BASE_PATH = '/api/v2/checks';

type Check = Task & { metadata: CheckMetadata };

/**
 * InfluxDB's check shape: `type` is the kind of check (threshold or deadman); the
 * task type behind every check is always `check`, and no body can change it.
 */
const checkFields = {
  orgID: taskDefinitionFields.orgID.optional(),
  name: z.string(),
  description: taskDefinitionFields.description,
  status: taskDefinitionFields.status,
  every: z.string(),
  offset: z.string().optional(),
  probe: probeSchema,
  statusMessageTemplate: z.string().max(4096).optional(),
  tags: tagsSchema.optional(),
};

export const checkCreateBody = z.discriminatedUnion('type', [
  z.strictObject({ ...checkFields, type: z.literal('threshold'), thresholds: z.array(thresholdSchema) }),
  z.strictObject({
    ...checkFields,
    type: z.literal('deadman'),
    timeSince: z.string(),
    level: levelSchema.optional(),
  }),
]);

export const checkUpdateBody = z.strictObject({
  name: z.string().optional(),
  description: z.string().optional(),
  status: taskDefinitionFields.status,
  every: z.string().optional(),
  offset: z.string().nullable().optional(),
  probe: probeSchema.optional(),
  thresholds: z.array(thresholdSchema).optional(),
  statusMessageTemplate: z.string().max(4096).optional(),
  tags: tagsSchema.optional(),
  timeSince: z.string().optional(),
  level: levelSchema.optional(),
});

const statusQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  afterTime: z.iso.datetime({ offset: true }).optional(),
  beforeTime: z.iso.datetime({ offset: true }).optional(),
});

export function toCheckJson(check: Check): z.input<typeof checkSchema> {
  const self = `${CHECKS_BASE_PATH}/${check.id}`;
  const m = check.metadata;
  return {
    id: check.id,
    taskID: check.id,
    orgID: check.orgID,
    name: check.name,
    description: check.description,
    status: check.status,
    type: m.kind,
    every: check.every,
    offset: check.offset,
    probe: m.probe.headers ? { ...m.probe, headers: redactHeaders(m.probe.headers) } : m.probe,
    ...(m.kind === 'threshold' ? { thresholds: m.thresholds } : { timeSince: m.timeSince, level: m.level }),
    statusMessageTemplate: m.statusMessageTemplate,
    tags: m.tags,
    latestCompleted: check.latestCompleted,
    lastRunStatus: check.lastRunStatus,
    lastRunError: check.lastRunError,
    createdAt: check.createdAt,
    updatedAt: check.updatedAt,
    links: { self, statuses: `${self}/statuses`, runs: `${self}/runs` },
  };
}

const redactHeaders = (headers: Record<string, string>) =>
  Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, isSecretHeader(k) ? REDACTED : v]));

/**
 * Probe credentials (Authorization and the like) are stored sealed, never in clear; one
 * sent back as `<redacted>` keeps the stored value only while the probe URL keeps its origin.
 */
async function sealProbe<P extends { url: string; headers?: Record<string, string> | undefined }>(
  probe: P,
  box: SecretBox,
  current?: { url: string; headers?: Record<string, string> | undefined },
): Promise<P> {
  if (!probe.headers) return probe;
  const headers = await sealHeaders(probe.headers, box, current?.headers, {
    field: 'probe.headers',
    moved: originChange(current?.url, probe.url),
  });
  return { ...probe, headers };
}

/** What every checks route shares. */
interface CheckRoutesContext {
  readonly checks: ScopedTaskService<CheckMetadata>;
  readonly statuses: StatusStore;
  readonly policy: TargetPolicy;
  readonly secrets: SecretBox;
}

type CheckRoute = RouteOf<CheckRoutesContext>;

type CheckCreateBody = z.output<typeof checkCreateBody>;

/** A check's task: the InfluxDB body's fields, the kind-specific ones as metadata with the probe sealed. */
async function toCheckDefinition(
  body: CheckCreateBody,
  orgID: string,
  secrets: SecretBox,
): Promise<TaskDefinition> {
  const { type, orgID: _orgID, name, description, status, every, offset, ...rest } = body;
  return {
    orgID,
    name,
    description,
    status,
    every,
    offset,
    // A check is a state machine (each status knows the previous level): one run at a time.
    concurrency: 1,
    catchUp: 'skip',
    metadata: { kind: type, ...rest, probe: await sealProbe(rest.probe, secrets) },
  } as TaskDefinition;
}

const createCheck: CheckRoute = ({ checks, policy, secrets }) => ({
  method: 'POST',
  path: CHECKS_BASE_PATH,
  summary: 'Create a check',
  body: named('CheckCreateRequest', checkCreateBody),
  responses: created('The check', checkSchema),
  handler: async (req) => {
    const body = bodyOf(req, checkCreateBody, 'invalid check');
    checkTargetUrl(body.probe.url, policy);
    const orgID = orgOf(req, body.orgID);
    const check = await checks.create(req.access, await toCheckDefinition(body, orgID, secrets));
    return json(201, toCheckJson(check));
  },
});

const listChecks: CheckRoute = ({ checks }) => ({
  method: 'GET',
  path: CHECKS_BASE_PATH,
  summary: 'List checks',
  query: orgListQuery,
  responses: ok('Checks', checksSchema),
  handler: async (req) => {
    const query = queryOf(req, orgListQuery);
    const orgID = orgOf(req, query.orgID);
    const page = await checks.list(req.access, { orgID, after: query.after, limit: query.limit });
    return json(200, {
      checks: (await withCompletionsAll(checks, page.tasks)).map(toCheckJson),
      links: pageLinks(CHECKS_BASE_PATH, { orgID, limit: query.limit }, page.tasks.at(-1)?.id, page.more),
    });
  },
});

const getCheck: CheckRoute = ({ checks }) => ({
  method: 'GET',
  path: `${CHECKS_BASE_PATH}/{id}`,
  summary: 'Get a check',
  responses: ok('The check', checkSchema),
  handler: async (req) =>
    json(200, toCheckJson(await checks.withCompletions(await checks.get(req.access, param(req, 'id'))))),
});

const updateCheck: CheckRoute = ({ checks, policy, secrets }) => ({
  method: 'PATCH',
  path: `${CHECKS_BASE_PATH}/{id}`,
  summary: 'Update a check',
  body: named('CheckUpdateRequest', checkUpdateBody),
  responses: ok('The check', checkSchema),
  handler: async (req) => {
    const body = bodyOf(req, checkUpdateBody, 'invalid check update');
    const id = param(req, 'id');
    if (body.probe) {
      checkTargetUrl(body.probe.url, policy);
      const current = await checks.get(req.access, id);
      body.probe = await sealProbe(body.probe, secrets, current.metadata.probe);
    }
    const check = await checks.update(req.access, id, splitPatch(body));
    return json(200, toCheckJson(await checks.withCompletions(check)));
  },
});

const deleteCheck: CheckRoute = ({ checks }) => ({
  method: 'DELETE',
  path: `${CHECKS_BASE_PATH}/{id}`,
  summary: 'Delete a check',
  responses: deleted,
  handler: async (req) => {
    await checks.delete(req.access, param(req, 'id'));
    return noContent();
  },
});

const listStatuses: CheckRoute = ({ checks, statuses }) => ({
  method: 'GET',
  path: `${CHECKS_BASE_PATH}/{id}/statuses`,
  summary: "A check's statuses, newest first",
  query: statusQuery,
  responses: ok('Statuses', checkStatusesSchema),
  handler: async (req) => {
    const query = queryOf(req, statusQuery);
    const check = await checks.get(req.access, param(req, 'id'));
    const list = await statuses.list(check.id, query);
    return json(200, {
      statuses: list,
      links: {
        self: `${CHECKS_BASE_PATH}/${check.id}/statuses`,
        check: `${CHECKS_BASE_PATH}/${check.id}`,
      },
    });
  },
});

const CHECK_ROUTES: readonly CheckRoute[] = [
  createCheck,
  listChecks,
  getCheck,
  updateCheck,
  deleteCheck,
  listStatuses,
];

/** The checks system's HTTP translation. */
export function checkRoutes(
  checks: ScopedTaskService<CheckMetadata>,
  statuses: StatusStore,
  policy: TargetPolicy,
  secrets: SecretBox,
): RouteDef[] {
  return CHECK_ROUTES.map((route) => route({ checks, statuses, policy, secrets }));
}
