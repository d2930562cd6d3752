import * as z from 'zod';
import { isSecretHeader, originChange, REDACTED, type SecretBox, sealHeaders } from '../../auth/secrets';
import { InvalidError } from '../../errors';
import { pageLinks, pagingQuery } from '../../http/paging';
import { bodyOf, param, queryOf } from '../../http/request';
import { json, noContent } from '../../http/response';
import { created, deleted, named, ok, type RouteDef } from '../../http/route';
import { checkTargetUrl, type TargetPolicy } from '../../net/address-policy';
import type { Task, TaskDefinition } from '../../task/model';
import { taskDefinitionFields } from '../../task/model';
import type { ScopedTaskService } from '../../task/task-service';
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

const listQuery = z.object({ ...pagingQuery, orgID: z.string().min(1).max(64).optional() });
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

/** The checks system's HTTP translation. */
export function checkRoutes(
  checks: ScopedTaskService<CheckMetadata>,
  statuses: StatusStore,
  policy: TargetPolicy,
  secrets: SecretBox,
): RouteDef[] {
  return [
    {
      method: 'POST',
      path: CHECKS_BASE_PATH,
      summary: 'Create a check',
      body: named('CheckCreateRequest', checkCreateBody),
      responses: created('The check', checkSchema),
      handler: async (req) => {
        const body = bodyOf(req, checkCreateBody, 'invalid check');
        checkTargetUrl(body.probe.url, policy);
        const { type, orgID, name, description, status, every, offset, ...rest } = body;
        const resolvedOrg = orgID ?? req.access.orgID;
        if (!resolvedOrg) throw new InvalidError('orgID is required');
        const definition = {
          orgID: resolvedOrg,
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
        const check = await checks.create(req.access, definition);
        return json(201, toCheckJson(check));
      },
    },
    {
      method: 'GET',
      path: CHECKS_BASE_PATH,
      summary: 'List checks',
      query: listQuery,
      responses: ok('Checks', checksSchema),
      handler: async (req) => {
        const query = queryOf(req, listQuery);
        const orgID = query.orgID ?? req.access.orgID;
        if (!orgID) throw new InvalidError('orgID is required');
        const page = await checks.list(req.access, { orgID, after: query.after, limit: query.limit });
        return json(200, {
          checks: page.tasks.map(toCheckJson),
          links: pageLinks(CHECKS_BASE_PATH, { orgID, limit: query.limit }, page.tasks.at(-1)?.id, page.more),
        });
      },
    },
    {
      method: 'GET',
      path: `${CHECKS_BASE_PATH}/{id}`,
      summary: 'Get a check',
      responses: ok('The check', checkSchema),
      handler: async (req) => json(200, toCheckJson(await checks.get(req.access, param(req, 'id')))),
    },
    {
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
        return json(200, toCheckJson(check));
      },
    },
    {
      method: 'DELETE',
      path: `${CHECKS_BASE_PATH}/{id}`,
      summary: 'Delete a check',
      responses: deleted,
      handler: async (req) => {
        await checks.delete(req.access, param(req, 'id'));
        return noContent();
      },
    },
    {
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
    },
  ];
}
