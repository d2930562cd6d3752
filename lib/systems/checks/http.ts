import * as z from 'zod';
import { isSecretHeader, originChange, REDACTED, type SecretBox, sealHeaders } from '../../auth/secrets';
import { bodyOf, param, queryOf } from '../../http/request';
import { json, noContent } from '../../http/response';
import { created, deleted, named, ok, type RouteDef, type RouteOf } from '../../http/route';
import { checkTargetUrl, type TargetPolicy } from '../../net/address-policy';
import { withCompletionsAll } from '../../task/completions';
import type { Task, TaskDefinition } from '../../task/model';
import { taskDefinitionFields } from '../../task/model';
import type { ScopedTaskService } from '../../task/task-service';
import type { AttachedLabels, LabelJson } from '../labels/mapping-routes';
import { offsetLinks, offsetPaging, pageByOffset } from '../shared/offset-paging';
import { orgListQuery, orgOf } from '../shared/org';
import { replacementPatch, splitPatch } from '../shared/patch';
import {
  readOnlyTaskFields,
  scheduleExtraFields,
  scheduleExtraPatchFields,
  scheduleExtrasOf,
} from '../shared/task-fields';
import {
  type CheckMetadata,
  levelSchema,
  oneMeasure,
  probeSchema,
  querySchema,
  tagList,
  tagRecord,
  tagsInputSchema,
  thresholdSchema,
} from './model';
import { checkSchema, checkStatusesSchema, checksSchema } from './responses';
import type { StatusStore } from './status-store';

export const CHECKS_BASE_PATH = '/api/v2/checks';

type Check = Task & { metadata: CheckMetadata };

/**
 * InfluxDB's check shape: `type` is the kind of check (threshold or deadman); the
 * task type behind every check is always `check`, and no body can change it. A check
 * measures with InfluxDB's `query` (Flux) or Rota's `probe` (an HTTP URL).
 */
const checkFields = {
  ...readOnlyTaskFields,
  orgID: taskDefinitionFields.orgID.optional(),
  name: z.string(),
  description: taskDefinitionFields.description,
  status: taskDefinitionFields.status,
  every: z.string(),
  offset: z.string().optional(),
  ...scheduleExtraFields,
  probe: probeSchema.optional(),
  query: querySchema.optional(),
  statusMessageTemplate: z.string().max(4096).optional(),
  tags: tagsInputSchema.optional(),
};

const deadmanFields = {
  timeSince: z.string(),
  staleTime: z.string().optional(),
  reportZero: z.boolean().optional(),
  level: levelSchema.optional(),
};

export const checkCreateBody = z
  .discriminatedUnion('type', [
    z.strictObject({ ...checkFields, type: z.literal('threshold'), thresholds: z.array(thresholdSchema) }),
    z.strictObject({ ...checkFields, type: z.literal('deadman'), ...deadmanFields }),
  ])
  .superRefine(oneMeasure);

export const checkUpdateBody = z.strictObject({
  name: z.string().optional(),
  description: z.string().optional(),
  status: taskDefinitionFields.status,
  every: z.string().optional(),
  offset: z.string().nullable().optional(),
  ...scheduleExtraPatchFields,
  probe: probeSchema.optional(),
  query: querySchema.optional(),
  thresholds: z.array(thresholdSchema).optional(),
  statusMessageTemplate: z.string().max(4096).optional(),
  tags: tagsInputSchema.optional(),
  timeSince: z.string().optional(),
  staleTime: z.string().optional(),
  reportZero: z.boolean().optional(),
  level: levelSchema.optional(),
});

const statusQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  afterTime: z.iso.datetime({ offset: true }).optional(),
  beforeTime: z.iso.datetime({ offset: true }).optional(),
});

/** A probe check shows the query InfluxDB's schema requires, with no Flux in it. */
const NO_QUERY = { text: '', editMode: 'advanced' } as const;

export function toCheckJson(check: Check, labels: LabelJson[] = []): z.input<typeof checkSchema> {
  const self = `${CHECKS_BASE_PATH}/${check.id}`;
  const m = check.metadata;
  const probe = m.probe?.headers ? { ...m.probe, headers: redactHeaders(m.probe.headers) } : m.probe;
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
    ...scheduleExtrasOf(check),
    query: m.query ?? NO_QUERY,
    ...(probe ? { probe } : {}),
    ...(m.kind === 'threshold'
      ? { thresholds: m.thresholds }
      : { timeSince: m.timeSince, staleTime: m.staleTime, reportZero: m.reportZero, level: m.level }),
    statusMessageTemplate: m.statusMessageTemplate,
    tags: tagList(m.tags),
    labels,
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
  readonly labels: AttachedLabels;
}

type CheckRoute = RouteOf<CheckRoutesContext>;

type CheckCreateBody = z.output<typeof checkCreateBody>;

/** A check's task: the InfluxDB body's fields, the kind-specific ones as metadata with the probe sealed. */
async function toCheckDefinition(
  body: CheckCreateBody,
  orgID: string,
  secrets: SecretBox,
  current?: CheckMetadata,
): Promise<TaskDefinition> {
  const {
    type,
    orgID: _orgID,
    name,
    description,
    status,
    every,
    offset,
    jitter,
    startAt,
    endAt,
    probe,
    tags,
    ...rest
  } = body;
  const kindFields = Object.fromEntries(Object.entries(rest).filter(([key]) => !(key in readOnlyTaskFields)));
  return {
    orgID,
    name,
    description,
    status,
    every,
    offset,
    jitter,
    startAt,
    endAt,
    // A check is a state machine (each status knows the previous level): one run at a time.
    concurrency: 1,
    catchUp: 'skip',
    metadata: {
      kind: type,
      ...kindFields,
      ...(tags ? { tags: tagRecord(tags) } : {}),
      ...(probe ? { probe: await sealProbe(probe, secrets, current?.probe) } : {}),
    },
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
    if (body.probe) checkTargetUrl(body.probe.url, policy);
    const orgID = orgOf(req, body.orgID);
    const check = await checks.create(req.access, await toCheckDefinition(body, orgID, secrets));
    return json(201, toCheckJson(check));
  },
});

const checkListQuery = z.object({ ...offsetPaging, orgID: orgListQuery.shape.orgID });

const listChecks: CheckRoute = ({ checks, labels }) => ({
  method: 'GET',
  path: CHECKS_BASE_PATH,
  summary: 'List checks',
  query: checkListQuery,
  responses: ok('Checks', checksSchema),
  handler: async (req) => {
    const query = queryOf(req, checkListQuery);
    const orgID = orgOf(req, query.orgID);
    const page = await pageByOffset(async (after, limit) => {
      const { tasks, more } = await checks.list(req.access, { orgID, after, limit });
      return { items: tasks, more };
    }, query);
    const labelsOf = page.items.length ? await labels.forList(orgID) : () => [];
    return json(200, {
      checks: (await withCompletionsAll(checks, page.items)).map((check) =>
        toCheckJson(check, labelsOf(check.id)),
      ),
      links: offsetLinks(CHECKS_BASE_PATH, { orgID }, query, page.more),
    });
  },
});

const getCheck: CheckRoute = ({ checks, labels }) => ({
  method: 'GET',
  path: `${CHECKS_BASE_PATH}/{id}`,
  summary: 'Get a check',
  responses: ok('The check', checkSchema),
  handler: async (req) => {
    const check = await checks.withCompletions(await checks.get(req.access, param(req, 'id')));
    return json(200, toCheckJson(check, await labels.of(check.orgID, check.id)));
  },
});

const updateCheck: CheckRoute = ({ checks, policy, secrets, labels }) => ({
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
    const patch = body.tags ? { ...body, tags: tagRecord(body.tags) } : body;
    const check = await checks.update(req.access, id, splitPatch(patch));
    return json(
      200,
      toCheckJson(await checks.withCompletions(check), await labels.of(check.orgID, check.id)),
    );
  },
});

/** InfluxDB's PUT: the whole check, as a create body; what it leaves out is cleared. */
const replaceCheck: CheckRoute = ({ checks, policy, secrets, labels }) => ({
  method: 'PUT',
  path: `${CHECKS_BASE_PATH}/{id}`,
  summary: 'Replace a check',
  body: named('CheckCreateRequest', checkCreateBody),
  responses: ok('The check', checkSchema),
  handler: async (req) => {
    const body = bodyOf(req, checkCreateBody, 'invalid check');
    if (body.probe) checkTargetUrl(body.probe.url, policy);
    const id = param(req, 'id');
    const current = await checks.get(req.access, id);
    const next = await toCheckDefinition(body, current.orgID, secrets, current.metadata);
    const check = await checks.update(req.access, id, replacementPatch(next));
    return json(
      200,
      toCheckJson(await checks.withCompletions(check), await labels.of(check.orgID, check.id)),
    );
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
  replaceCheck,
  deleteCheck,
  listStatuses,
];

/** The checks system's HTTP translation. */
export function checkRoutes(
  checks: ScopedTaskService<CheckMetadata>,
  statuses: StatusStore,
  policy: TargetPolicy,
  secrets: SecretBox,
  labels: AttachedLabels,
): RouteDef[] {
  return CHECK_ROUTES.map((route) => route({ checks, statuses, policy, secrets, labels }));
}
