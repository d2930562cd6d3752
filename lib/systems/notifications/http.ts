import { ulid } from 'ulid';
import * as z from 'zod';
import type { SecretBox } from '../../auth/secrets';
import { ConflictError, ForbiddenError, InvalidError, NotFoundError } from '../../errors';
import { pageLinks, pagingQuery } from '../../http/paging';
import { type ApiRequest, bodyOf, param, queryOf } from '../../http/request';
import { json, noContent } from '../../http/response';
import { created, deleted, named, ok, type RouteDef } from '../../http/route';
import { checkTargetUrl, type TargetPolicy } from '../../net/address-policy';
import { logger } from '../../observability/logger';
import type { Task, TaskDefinition } from '../../task/model';
import { taskDefinitionFields } from '../../task/model';
import type { Access, ScopedTaskService } from '../../task/task-service';
import { parseOrThrow } from '../../validation';
import { splitPatch } from '../shared/patch';
import { endpointBody, type NotificationEndpoint, redactEndpoint } from './endpoint-model';
import { sealEndpoint } from './endpoint-secrets';
import type { EndpointStore } from './endpoint-store';
import type { NotificationLogStore } from './log-store';
import { endpointSchema, endpointsSchema, notificationLogSchema, ruleSchema, rulesSchema } from './responses';
import { type RuleMetadata, statusRuleSchema, tagRuleSchema } from './rule-model';

export const RULES_BASE_PATH = '/api/v2/notificationRules';
export const ENDPOINTS_BASE_PATH = '/api/v2/notificationEndpoints';

type Rule = Task & { metadata: RuleMetadata };

const listQuery = z.object({ ...pagingQuery, orgID: z.string().min(1).max(64).optional() });
const logQuery = z.object({ limit: pagingQuery.limit });

export const ruleCreateBody = z.strictObject({
  orgID: taskDefinitionFields.orgID.optional(),
  name: z.string(),
  description: taskDefinitionFields.description,
  status: taskDefinitionFields.status,
  every: z.string(),
  offset: z.string().optional(),
  endpointID: z.string().min(1).max(64),
  statusRules: z.array(statusRuleSchema),
  tagRules: z.array(tagRuleSchema).optional(),
  messageTemplate: z.string().optional(),
  /** InfluxDB sends the endpoint's type; Rota reads it from the endpoint. */
  type: z.enum(['http', 'slack', 'pagerduty']).optional(),
});

export const ruleUpdateBody = z.strictObject({
  name: z.string().optional(),
  description: z.string().optional(),
  status: taskDefinitionFields.status,
  every: z.string().optional(),
  offset: z.string().nullable().optional(),
  endpointID: z.string().min(1).max(64).optional(),
  statusRules: z.array(statusRuleSchema).optional(),
  tagRules: z.array(tagRuleSchema).optional(),
  messageTemplate: z.string().optional(),
});

const orgOf = (req: ApiRequest, given: string | undefined) => {
  const orgID = given ?? req.access.orgID;
  if (!orgID) throw new InvalidError('orgID is required');
  return orgID;
};

async function endpointFor(
  endpoints: EndpointStore,
  access: Access,
  orgID: string,
  id: string,
): Promise<NotificationEndpoint> {
  const endpoint = await endpoints.get(id);
  const visible =
    endpoint && endpoint.orgID === orgID && (access.orgID === undefined || access.orgID === endpoint.orgID);
  if (!visible) throw new InvalidError(`unknown endpointID ${id}`);
  return endpoint;
}

export function toRuleJson(rule: Rule, endpointType?: string): z.input<typeof ruleSchema> {
  const self = `${RULES_BASE_PATH}/${rule.id}`;
  return {
    id: rule.id,
    taskID: rule.id,
    orgID: rule.orgID,
    name: rule.name,
    description: rule.description,
    status: rule.status,
    type: endpointType,
    every: rule.every,
    offset: rule.offset,
    endpointID: rule.metadata.endpointID,
    statusRules: rule.metadata.statusRules,
    tagRules: rule.metadata.tagRules,
    messageTemplate: rule.metadata.messageTemplate,
    latestCompleted: rule.latestCompleted,
    lastRunStatus: rule.lastRunStatus,
    lastRunError: rule.lastRunError,
    createdAt: rule.createdAt,
    updatedAt: rule.updatedAt,
    links: { self, log: `${self}/log`, runs: `${self}/runs` },
  };
}

/** The notification rules system's HTTP translation. */
export function ruleRoutes(
  rules: ScopedTaskService<RuleMetadata>,
  endpoints: EndpointStore,
  log: NotificationLogStore,
): RouteDef[] {
  return [
    {
      method: 'POST',
      path: RULES_BASE_PATH,
      summary: 'Create a notification rule',
      body: named('NotificationRuleCreateRequest', ruleCreateBody),
      responses: created('The notification rule', ruleSchema),
      handler: async (req) => {
        const body = bodyOf(req, ruleCreateBody, 'invalid notification rule');
        const orgID = orgOf(req, body.orgID);
        const endpoint = await endpointFor(endpoints, req.access, orgID, body.endpointID);
        const definition = {
          orgID,
          name: body.name,
          description: body.description,
          status: body.status,
          every: body.every,
          offset: body.offset,
          // The read cursor is per rule: one run at a time keeps it consistent.
          concurrency: 1,
          catchUp: 'latest',
          metadata: {
            endpointID: body.endpointID,
            statusRules: body.statusRules,
            tagRules: body.tagRules,
            messageTemplate: body.messageTemplate,
          },
        } as TaskDefinition;
        const rule = await rules.create(req.access, definition);
        return json(201, toRuleJson(rule, endpoint.type));
      },
    },
    {
      method: 'GET',
      path: RULES_BASE_PATH,
      summary: 'List notification rules',
      query: listQuery,
      responses: ok('Notification rules', rulesSchema),
      handler: async (req) => {
        const query = queryOf(req, listQuery);
        const orgID = orgOf(req, query.orgID);
        const page = await rules.list(req.access, { orgID, after: query.after, limit: query.limit });
        return json(200, {
          notificationRules: page.tasks.map((r) => toRuleJson(r)),
          links: pageLinks(RULES_BASE_PATH, { orgID, limit: query.limit }, page.tasks.at(-1)?.id, page.more),
        });
      },
    },
    {
      method: 'GET',
      path: `${RULES_BASE_PATH}/{id}`,
      summary: 'Get a notification rule',
      responses: ok('The notification rule', ruleSchema),
      handler: async (req) => {
        const rule = await rules.get(req.access, param(req, 'id'));
        return json(200, toRuleJson(rule, (await endpoints.get(rule.metadata.endpointID))?.type));
      },
    },
    {
      method: 'PATCH',
      path: `${RULES_BASE_PATH}/{id}`,
      summary: 'Update a notification rule',
      body: named('NotificationRuleUpdateRequest', ruleUpdateBody),
      responses: ok('The notification rule', ruleSchema),
      handler: async (req) => {
        const body = bodyOf(req, ruleUpdateBody, 'invalid notification rule update');
        const id = param(req, 'id');
        const current = await rules.get(req.access, id);
        if (body.endpointID) await endpointFor(endpoints, req.access, current.orgID, body.endpointID);
        const rule = await rules.update(req.access, id, splitPatch(body));
        return json(200, toRuleJson(rule));
      },
    },
    {
      method: 'DELETE',
      path: `${RULES_BASE_PATH}/{id}`,
      summary: 'Delete a notification rule',
      responses: deleted,
      handler: async (req) => {
        await rules.delete(req.access, param(req, 'id'));
        return noContent();
      },
    },
    {
      method: 'GET',
      path: `${RULES_BASE_PATH}/{id}/log`,
      summary: "A rule's notification log",
      query: logQuery,
      responses: ok('Notification log', notificationLogSchema),
      handler: async (req) => {
        const { limit } = queryOf(req, logQuery);
        const rule = await rules.get(req.access, param(req, 'id'));
        return json(200, {
          log: await log.list(rule.id, limit),
          links: { self: `${RULES_BASE_PATH}/${rule.id}/log` },
        });
      },
    },
  ];
}

/** Every rule of an org that sends to `endpointID` (paged through the whole org). */
async function rulesUsing(
  rules: ScopedTaskService<RuleMetadata>,
  access: Access,
  orgID: string,
  endpointID: string,
) {
  const using: Rule[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await rules.list(access, { orgID, after, limit: 500 });
    using.push(...page.tasks.filter((r) => r.metadata.endpointID === endpointID));
    if (!page.more) return using;
    after = page.tasks.at(-1)?.id;
  }
}

/** Notification endpoints: plain items with CRUD, not tasks. Credentials never come back. */
export function endpointRoutes(
  endpoints: EndpointStore,
  rules: ScopedTaskService<RuleMetadata>,
  policy: TargetPolicy,
  secrets: SecretBox,
  now: () => number = Date.now,
): RouteDef[] {
  const load = async (access: Access, id: string) => {
    const endpoint = await endpoints.get(id);
    if (!endpoint || (access.orgID !== undefined && access.orgID !== endpoint.orgID)) {
      throw new NotFoundError('notification endpoint not found');
    }
    return endpoint;
  };
  const view = (e: NotificationEndpoint) => {
    const links = { self: `${ENDPOINTS_BASE_PATH}/${e.id}` };
    try {
      return { ...redactEndpoint(e), links };
    } catch (error) {
      // One bad stored item must not break every list of its org: show it flagged, so it can be deleted.
      logger.warn('stored notification endpoint is unreadable', { endpointID: e.id, error });
      return {
        id: e.id,
        orgID: e.orgID,
        type: e.type,
        name: e.name,
        status: e.status,
        unreadable: true,
        links,
      };
    }
  };

  const redactedForUpdate = (e: NotificationEndpoint) => {
    try {
      return redactEndpoint(e);
    } catch {
      throw new InvalidError('the stored endpoint is unreadable; delete it and create it again');
    }
  };

  return [
    {
      method: 'POST',
      path: ENDPOINTS_BASE_PATH,
      summary: 'Create a notification endpoint',
      body: named('NotificationEndpointRequest', endpointBody),
      responses: created('The endpoint, credentials redacted', endpointSchema),
      handler: async (req) => {
        const body = bodyOf(req, endpointBody, 'invalid notification endpoint');
        checkTargetUrl(body.url, policy);
        const orgID = orgOf(req, body.orgID);
        if (req.access.orgID !== undefined && req.access.orgID !== orgID) {
          throw new ForbiddenError('orgID does not match the caller');
        }
        const stamp = new Date(now()).toISOString();
        const endpoint = await sealEndpoint(
          {
            ...body,
            id: ulid().toLowerCase(),
            orgID,
            status: body.status ?? 'active',
            description: body.description ?? '',
            createdAt: stamp,
            updatedAt: stamp,
            version: 1,
          } as NotificationEndpoint,
          secrets,
        );
        if (!(await endpoints.create(endpoint))) throw new ConflictError('endpoint id already exists');
        return json(201, view(endpoint));
      },
    },
    {
      method: 'GET',
      path: ENDPOINTS_BASE_PATH,
      summary: 'List notification endpoints',
      query: listQuery,
      responses: ok('Notification endpoints', endpointsSchema),
      handler: async (req) => {
        const query = queryOf(req, listQuery);
        const orgID = orgOf(req, query.orgID);
        if (req.access.orgID !== undefined && req.access.orgID !== orgID)
          throw new ForbiddenError('orgID does not match the caller');
        const page = await endpoints.list(orgID, query.after, query.limit);
        return json(200, {
          notificationEndpoints: page.endpoints.map(view),
          links: pageLinks(
            ENDPOINTS_BASE_PATH,
            { orgID, limit: query.limit },
            page.endpoints.at(-1)?.id,
            page.more,
          ),
        });
      },
    },
    {
      method: 'GET',
      path: `${ENDPOINTS_BASE_PATH}/{id}`,
      summary: 'Get a notification endpoint',
      responses: ok('The endpoint, credentials redacted', endpointSchema),
      handler: async (req) => json(200, view(await load(req.access, param(req, 'id')))),
    },
    {
      method: 'PATCH',
      path: `${ENDPOINTS_BASE_PATH}/{id}`,
      summary: 'Update a notification endpoint (a field sent back as <redacted> keeps its value)',
      body: named('NotificationEndpointRequest', endpointBody),
      responses: ok('The endpoint, credentials redacted', endpointSchema),
      handler: async (req) => {
        if (req.body === undefined || typeof req.body !== 'object' || req.body === null) {
          throw new InvalidError('request body must be a JSON object');
        }
        const current = await load(req.access, param(req, 'id'));
        // Validate against what a client sees (credentials redacted), then seal: a field
        // sent back as `<redacted>` keeps its stored ciphertext.
        const {
          id: _id,
          orgID: _org,
          createdAt: _c,
          updatedAt: _u,
          version: _v,
          ...shown
        } = redactedForUpdate(current);
        const merged = parseOrThrow(
          endpointBody,
          { ...shown, ...(req.body as Record<string, unknown>), type: current.type },
          'invalid notification endpoint update',
        );
        if (!(merged.type === 'slack' && merged.url.endsWith('/<redacted>')))
          checkTargetUrl(merged.url, policy);
        const next = await sealEndpoint(
          {
            ...merged,
            id: current.id,
            orgID: current.orgID,
            status: merged.status ?? current.status,
            description: merged.description ?? '',
            createdAt: current.createdAt,
            updatedAt: new Date(now()).toISOString(),
            version: current.version + 1,
          } as NotificationEndpoint,
          secrets,
          current,
        );
        if (!(await endpoints.replace(next, current.version)))
          throw new ConflictError('endpoint was changed concurrently; read it again');
        return json(200, view(next));
      },
    },
    {
      method: 'DELETE',
      path: `${ENDPOINTS_BASE_PATH}/{id}`,
      summary: 'Delete a notification endpoint no rule uses',
      responses: deleted,
      handler: async (req) => {
        const endpoint = await load(req.access, param(req, 'id'));
        const users = await rulesUsing(rules, req.access, endpoint.orgID, endpoint.id);
        if (users.length) {
          throw new ConflictError(
            `endpoint is used by notification rule(s) ${users.map((r) => `${r.name} (${r.id})`).join(', ')}; delete or repoint them first`,
          );
        }
        await endpoints.remove(endpoint.id);
        return noContent();
      },
    },
  ];
}
