import { ulid } from 'ulid';
import * as z from 'zod';
import type { SecretBox } from '../../auth/secrets';
import { ConflictError, ForbiddenError, InvalidError, NotFoundError } from '../../errors';
import { type ApiRequest, bodyOf, param, queryOf } from '../../http/request';
import { json, noContent } from '../../http/response';
import { created, deleted, named, ok, type RouteDef, type RouteOf } from '../../http/route';
import { checkTargetUrl, type TargetPolicy } from '../../net/address-policy';
import { logger } from '../../observability/logger';
import type { Task } from '../../task/model';
import type { Access, ScopedTaskService } from '../../task/task-service';
import { parseOrThrow } from '../../validation';
import type { AttachedLabels, LabelJson } from '../labels/mapping-routes';
import { offsetLinks, offsetPaging, pageByOffset } from '../shared/offset-paging';
import { orgListQuery, orgOf } from '../shared/org';
import {
  type EndpointBody,
  endpointBody,
  type NotificationEndpoint,
  redactEndpoint,
  withSendUrl,
} from './endpoint-model';
import { sealEndpoint } from './endpoint-secrets';
import type { EndpointStore } from './endpoint-store';
import { endpointSchema, endpointsSchema } from './responses';
import type { RuleMetadata } from './rule-model';

export const ENDPOINTS_BASE_PATH = '/api/v2/notificationEndpoints';

type Rules = ScopedTaskService<RuleMetadata>;

/** The org a request names; an org token may name only its own. */
function ownOrg(req: ApiRequest, given: string | undefined): string {
  const orgID = orgOf(req, given);
  if (req.access.orgID !== undefined && req.access.orgID !== orgID) {
    throw new ForbiddenError('orgID does not match the caller');
  }
  return orgID;
}

export async function loadEndpoint(endpoints: EndpointStore, access: Access, id: string) {
  const endpoint = await endpoints.get(id);
  if (!endpoint || (access.orgID !== undefined && access.orgID !== endpoint.orgID)) {
    throw new NotFoundError('notification endpoint not found');
  }
  return endpoint;
}

/** What a client sees of an endpoint: credentials redacted. */
function toEndpointJson(e: NotificationEndpoint, labels: LabelJson[] = []) {
  const links = { self: `${ENDPOINTS_BASE_PATH}/${e.id}` };
  try {
    return { ...redactEndpoint(e), labels, links };
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
}

/**
 * An update as a whole endpoint body: what a client sees of the stored one (credentials
 * redacted) with the request's fields over it. Validated before sealing, so a field
 * sent back as `<redacted>` keeps its stored ciphertext.
 */
function mergedUpdate(current: NotificationEndpoint, body: Record<string, unknown>): EndpointBody {
  let redacted: NotificationEndpoint;
  try {
    redacted = redactEndpoint(current);
  } catch {
    throw new InvalidError('the stored endpoint is unreadable; delete it and create it again');
  }
  const {
    id: _id,
    orgID: _org,
    createdAt: _c,
    updatedAt: _u,
    version: _v,
    ...shown
  } = redacted as Record<string, unknown>;
  // Telegram's URL is Rota's, not the endpoint's: a body does not name it.
  if (current.type === 'telegram') delete shown.url;
  return parseOrThrow(
    endpointBody,
    { ...shown, ...body, type: current.type },
    'invalid notification endpoint update',
  );
}

/** Every rule of an org that sends to `endpointID` (paged through the whole org). */
async function rulesUsing(rules: Rules, access: Access, orgID: string, endpointID: string) {
  const using: (Task & { metadata: RuleMetadata })[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await rules.list(access, { orgID, after, limit: 500 });
    using.push(...page.tasks.filter((r) => r.metadata.endpointID === endpointID));
    if (!page.more) return using;
    after = page.tasks.at(-1)?.id;
  }
}

/** What every notification endpoints route shares. */
interface EndpointRoutesContext {
  readonly endpoints: EndpointStore;
  readonly rules: Rules;
  readonly policy: TargetPolicy;
  readonly secrets: SecretBox;
  readonly labels: AttachedLabels;
  readonly now: () => number;
}

type EndpointRoute = RouteOf<EndpointRoutesContext>;

const createEndpoint: EndpointRoute = ({ endpoints, policy, secrets, now }) => ({
  method: 'POST',
  path: ENDPOINTS_BASE_PATH,
  summary: 'Create a notification endpoint',
  body: named('NotificationEndpointRequest', endpointBody),
  responses: created('The endpoint, credentials redacted', endpointSchema),
  handler: async (req) => {
    const body = withSendUrl(bodyOf(req, endpointBody, 'invalid notification endpoint'));
    checkTargetUrl(body.url, policy);
    const orgID = ownOrg(req, body.orgID);
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
    return json(201, toEndpointJson(endpoint));
  },
});

const endpointListQuery = z.object({ ...offsetPaging, orgID: orgListQuery.shape.orgID });

const listEndpoints: EndpointRoute = ({ endpoints, labels }) => ({
  method: 'GET',
  path: ENDPOINTS_BASE_PATH,
  summary: 'List notification endpoints',
  query: endpointListQuery,
  responses: ok('Notification endpoints', endpointsSchema),
  handler: async (req) => {
    const query = queryOf(req, endpointListQuery);
    const orgID = ownOrg(req, query.orgID);
    const page = await pageByOffset(async (after, limit) => {
      const { endpoints: items, more } = await endpoints.list(orgID, after, limit);
      return { items, more };
    }, query);
    const labelsOf = page.items.length ? await labels.forList(orgID) : () => [];
    return json(200, {
      notificationEndpoints: page.items.map((e) => toEndpointJson(e, labelsOf(e.id))),
      links: offsetLinks(ENDPOINTS_BASE_PATH, { orgID }, query, page.more),
    });
  },
});

const getEndpoint: EndpointRoute = ({ endpoints, labels }) => ({
  method: 'GET',
  path: `${ENDPOINTS_BASE_PATH}/{id}`,
  summary: 'Get a notification endpoint',
  responses: ok('The endpoint, credentials redacted', endpointSchema),
  handler: async (req) => {
    const endpoint = await loadEndpoint(endpoints, req.access, param(req, 'id'));
    return json(200, toEndpointJson(endpoint, await labels.of(endpoint.orgID, endpoint.id)));
  },
});

/**
 * Stores `body` in place of `current`: the URL checked (a Slack URL sent back redacted
 * keeps the stored one, checked when it was set), credentials sealed or kept, the
 * version compared so a concurrent change is a 409.
 */
async function replaceStored(
  ctx: EndpointRoutesContext,
  current: NotificationEndpoint,
  body: EndpointBody,
): Promise<NotificationEndpoint> {
  const merged = withSendUrl(body);
  if (!(merged.type === 'slack' && merged.url.endsWith('/<redacted>')))
    checkTargetUrl(merged.url, ctx.policy);
  const next = await sealEndpoint(
    {
      ...merged,
      id: current.id,
      orgID: current.orgID,
      status: merged.status ?? current.status,
      description: merged.description ?? '',
      createdAt: current.createdAt,
      updatedAt: new Date(ctx.now()).toISOString(),
      version: current.version + 1,
    } as NotificationEndpoint,
    ctx.secrets,
    current,
  );
  if (!(await ctx.endpoints.replace(next, current.version)))
    throw new ConflictError('endpoint was changed concurrently; read it again');
  return next;
}

const objectBody = (req: ApiRequest): Record<string, unknown> => {
  if (req.body === undefined || typeof req.body !== 'object' || req.body === null) {
    throw new InvalidError('request body must be a JSON object');
  }
  return req.body as Record<string, unknown>;
};

const updateEndpoint: EndpointRoute = (ctx) => ({
  method: 'PATCH',
  path: `${ENDPOINTS_BASE_PATH}/{id}`,
  summary: 'Update a notification endpoint (a field sent back as <redacted> keeps its value)',
  body: named('NotificationEndpointRequest', endpointBody),
  responses: ok('The endpoint, credentials redacted', endpointSchema),
  handler: async (req) => {
    const body = objectBody(req);
    const current = await loadEndpoint(ctx.endpoints, req.access, param(req, 'id'));
    const next = await replaceStored(ctx, current, mergedUpdate(current, body));
    return json(200, toEndpointJson(next, await ctx.labels.of(next.orgID, next.id)));
  },
});

/**
 * InfluxDB's PUT: the whole endpoint, read-only fields accepted and ignored; what it
 * leaves out is cleared. A credential sent back as `<redacted>` keeps the stored one.
 */
const replaceEndpoint: EndpointRoute = (ctx) => ({
  method: 'PUT',
  path: `${ENDPOINTS_BASE_PATH}/{id}`,
  summary: 'Replace a notification endpoint',
  body: named('NotificationEndpointRequest', endpointBody),
  responses: ok('The endpoint, credentials redacted', endpointSchema),
  handler: async (req) => {
    const {
      id: _id,
      createdAt: _c,
      updatedAt: _u,
      version: _v,
      links: _l,
      labels: _lb,
      userID: _user,
      ...body
    } = objectBody(req);
    const current = await loadEndpoint(ctx.endpoints, req.access, param(req, 'id'));
    if (body.type !== current.type) {
      throw new InvalidError(
        `type: an endpoint keeps its type (${current.type}); create a new endpoint instead`,
      );
    }
    if (current.type === 'telegram') delete body.url;
    const parsed = parseOrThrow(endpointBody, body, 'invalid notification endpoint');
    const next = await replaceStored(ctx, current, parsed);
    return json(200, toEndpointJson(next, await ctx.labels.of(next.orgID, next.id)));
  },
});

const deleteEndpoint: EndpointRoute = ({ endpoints, rules }) => ({
  method: 'DELETE',
  path: `${ENDPOINTS_BASE_PATH}/{id}`,
  summary: 'Delete a notification endpoint no rule uses',
  responses: deleted,
  handler: async (req) => {
    const endpoint = await loadEndpoint(endpoints, req.access, param(req, 'id'));
    const users = await rulesUsing(rules, req.access, endpoint.orgID, endpoint.id);
    if (users.length) {
      throw new ConflictError(
        `endpoint is used by notification rule(s) ${users.map((r) => `${r.name} (${r.id})`).join(', ')}; delete or repoint them first`,
      );
    }
    await endpoints.remove(endpoint.id);
    return noContent();
  },
});

const ENDPOINT_ROUTES: readonly EndpointRoute[] = [
  createEndpoint,
  listEndpoints,
  getEndpoint,
  updateEndpoint,
  replaceEndpoint,
  deleteEndpoint,
];

/** Notification endpoints: plain items with CRUD, not tasks. Credentials never come back. */
export function endpointRoutes(
  endpoints: EndpointStore,
  rules: Rules,
  policy: TargetPolicy,
  secrets: SecretBox,
  labels: AttachedLabels,
  now: () => number = Date.now,
): RouteDef[] {
  return ENDPOINT_ROUTES.map((route) => route({ endpoints, rules, policy, secrets, labels, now }));
}
