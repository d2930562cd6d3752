import * as z from 'zod';
import {
  ACTIONS,
  type Authorization,
  authorizationStatusSchema,
  type Caller,
  can,
  currentPermissions,
  LEGACY_RESOURCES,
  type Permission,
  tokenOrgIDSchema,
} from '../../auth/model';
import type { AuthStore } from '../../auth/store';
import { issueToken } from '../../auth/token';
import { ConflictError, ForbiddenError, InvalidError, NotFoundError, UnauthorizedError } from '../../errors';
import { pageLinks } from '../../http/paging';
import { type ApiRequest, bodyOf, param, queryOf } from '../../http/request';
import { json, noContent } from '../../http/response';
import { created, deleted, named, ok, type RouteDef, type RouteOf } from '../../http/route';
import {
  findAuthorizations,
  listAuthorizationsQuery,
  listedOrg,
  orgInScope,
  sameOrNone,
  userIDSchema,
} from './list';
import { authorizationSchema, authorizationsSchema } from './responses';

export const AUTHORIZATIONS_BASE_PATH = '/api/v2/authorizations';

const DESCRIPTION_LENGTH = 1024;

/**
 * The resource types a create accepts: the registered APIs' (the registry's `resources`)
 * and, for clients written before the rename, the legacy names (`notifications`), which
 * are stored as what they grant now.
 */
export function grantableTypes(resources: readonly [string, ...string[]]): [string, ...string[]] {
  const legacy = Object.keys(LEGACY_RESOURCES).filter((name) => !resources.includes(name));
  return [...resources, ...legacy];
}

/** A permission on one of the registered APIs' resources. */
export function permissionBody(resources: readonly [string, ...string[]]) {
  return z.strictObject({
    action: z.enum(ACTIONS),
    resource: z.strictObject({
      type: z.enum(grantableTypes(resources)),
      /** Defaults to the authorization's org; no other org is accepted. */
      orgID: tokenOrgIDSchema.optional(),
    }),
  });
}

const createBodies = new Map<string, ReturnType<typeof buildCreateBody>>();

/** InfluxDB's AuthorizationPostRequest; one schema per resource list. */
export function authorizationCreateBody(resources: readonly [string, ...string[]]) {
  const key = resources.join(',');
  const body = createBodies.get(key) ?? buildCreateBody(resources);
  createBodies.set(key, body);
  return body;
}

function buildCreateBody(resources: readonly [string, ...string[]]) {
  return z.strictObject({
    orgID: tokenOrgIDSchema.optional(),
    /** Rota has no users: kept as a label that the `user` and `userID` filters match. */
    userID: userIDSchema.optional(),
    description: z.string().max(DESCRIPTION_LENGTH).optional(),
    status: authorizationStatusSchema.optional(),
    permissions: z
      .array(permissionBody(resources))
      .min(1, 'at least one permission')
      .max(ACTIONS.length * resources.length * 2),
  });
}

/** InfluxDB's AuthorizationUpdateRequest. */
export const authorizationUpdateBody = z
  .strictObject({
    status: authorizationStatusSchema.optional(),
    description: z.string().max(DESCRIPTION_LENGTH).optional(),
  })
  .refine((b) => b.status !== undefined || b.description !== undefined, {
    message: 'set status or description',
  });

/** InfluxDB's Authorization object. `token` appears once, in the answer to the create. */
export function toAuthorizationJson(
  authorization: Authorization,
  token?: string,
): z.input<typeof authorizationSchema> {
  return {
    id: authorization.id,
    ...(token === undefined ? {} : { token }),
    status: authorization.status,
    description: authorization.description,
    orgID: authorization.orgID,
    ...(authorization.userID === undefined ? {} : { userID: authorization.userID }),
    // Stored legacy names (`notifications`) answer as InfluxDB's types they grant now.
    permissions: currentPermissions(authorization.permissions).map((p) => ({
      action: p.action,
      resource: { type: p.type, orgID: authorization.orgID },
    })),
    createdAt: authorization.createdAt,
    updatedAt: authorization.updatedAt,
    links: { self: `${AUTHORIZATIONS_BASE_PATH}/${authorization.id}` },
  };
}

function callerOf(req: ApiRequest): Caller {
  if (!req.caller) throw new UnauthorizedError();
  return req.caller;
}

/**
 * An org token manages only tokens it could have issued itself: never one that holds
 * a permission it lacks, so write on `authorizations` is no ladder to more.
 */
function requireHolds(caller: Caller, permissions: readonly Permission[], what: string): void {
  const missing = currentPermissions(permissions).filter((p) => !can(caller, p.action, p.type));
  if (missing.length > 0) {
    const list = missing.map((p) => `${p.action}:${p.type}`).join(', ');
    throw new ForbiddenError(`${what} permissions the caller does not hold: ${list}`);
  }
}

export interface AuthorizationRoutesDeps {
  store: AuthStore;
  /** Every permission resource a token may hold: the registered APIs'. */
  resources: readonly [string, ...string[]];
  now?: () => number;
  newID?: () => string;
}

type PermissionBody = z.output<ReturnType<typeof permissionBody>>;

/** The permissions a create asks for, each once; a permission on another org's resources is refused. */
function requestedPermissions(bodies: readonly PermissionBody[], orgID: string): Permission[] {
  for (const p of bodies) {
    if (p.resource.orgID !== undefined && p.resource.orgID !== orgID) {
      throw new InvalidError(`a permission's resource.orgID must be the authorization's org, ${orgID}`);
    }
  }
  return currentPermissions(bodies.map((p) => ({ action: p.action, type: p.resource.type })));
}

/** What every authorizations route shares. */
interface AuthorizationRoutesContext {
  readonly store: AuthStore;
  readonly createBody: ReturnType<typeof authorizationCreateBody>;
  readonly now: () => number;
  readonly newID: (() => string) | undefined;
}

type AuthorizationRoute = RouteOf<AuthorizationRoutesContext>;

async function loadAuthorization(store: AuthStore, caller: Caller, id: string): Promise<Authorization> {
  const authorization = await store.get(id);
  // Another org's token is indistinguishable from a missing one.
  if (!authorization || (caller.orgID !== undefined && caller.orgID !== authorization.orgID)) {
    throw new NotFoundError('authorization not found');
  }
  return authorization;
}

const createAuthorization: AuthorizationRoute = ({ store, createBody, now, newID }) => ({
  method: 'POST',
  path: AUTHORIZATIONS_BASE_PATH,
  summary: 'Create a token; the answer is the only place the token string appears',
  body: named('AuthorizationPostRequest', createBody),
  responses: created('The authorization, with its token', authorizationSchema),
  handler: async (req) => {
    const caller = callerOf(req);
    const body = bodyOf(req, createBody, 'invalid authorization');
    const orgID = orgInScope(caller, body.orgID);
    const permissions = requestedPermissions(body.permissions, orgID);
    requireHolds(caller, permissions, 'cannot grant');

    const issued = issueToken(newID);
    const stamp = new Date(now()).toISOString();
    const authorization: Authorization = {
      id: issued.id,
      orgID,
      status: body.status ?? 'active',
      description: body.description ?? '',
      permissions,
      ...(body.userID === undefined ? {} : { userID: body.userID }),
      tokenHash: issued.tokenHash,
      createdAt: stamp,
      updatedAt: stamp,
    };
    if (!(await store.create(authorization))) throw new ConflictError('authorization id already exists');
    return json(201, toAuthorizationJson(authorization, issued.token));
  },
});

const listAuthorizations: AuthorizationRoute = ({ store }) => ({
  method: 'GET',
  path: AUTHORIZATIONS_BASE_PATH,
  summary:
    "List the tokens the caller may see (the operator: every org's; an org token: its org's), never the token strings",
  query: listAuthorizationsQuery,
  responses: ok('Authorizations', authorizationsSchema),
  handler: async (req) => {
    const caller = callerOf(req);
    const query = queryOf(req, listAuthorizationsQuery);
    const orgID = listedOrg(caller, query);
    const userID = sameOrNone(query.userID, query.user);
    const page = await findAuthorizations(store, caller, { ...query, orgID, userID });
    // The token filter stays out of the links: links end up in logs.
    const self = { orgID, userID: userID ?? undefined, limit: query.limit };
    return json(200, {
      authorizations: page.authorizations.map((a) => toAuthorizationJson(a)),
      links: pageLinks(AUTHORIZATIONS_BASE_PATH, self, page.authorizations.at(-1)?.id, page.more),
    });
  },
});

const getAuthorization: AuthorizationRoute = ({ store }) => ({
  method: 'GET',
  path: `${AUTHORIZATIONS_BASE_PATH}/{id}`,
  summary: 'Get a token',
  responses: ok('Authorization', authorizationSchema),
  handler: async (req) =>
    json(200, toAuthorizationJson(await loadAuthorization(store, callerOf(req), param(req, 'id')))),
});

const updateAuthorization: AuthorizationRoute = ({ store, now }) => ({
  method: 'PATCH',
  path: `${AUTHORIZATIONS_BASE_PATH}/{id}`,
  summary: 'Activate or deactivate a token, or change its description',
  body: named('AuthorizationUpdateRequest', authorizationUpdateBody),
  responses: ok('The updated authorization', authorizationSchema),
  handler: async (req) => {
    const caller = callerOf(req);
    const body = bodyOf(req, authorizationUpdateBody, 'invalid authorization update');
    const current = await loadAuthorization(store, caller, param(req, 'id'));
    requireHolds(caller, current.permissions, 'cannot change a token with');
    const updated = await store.update(current.id, { ...body, updatedAt: new Date(now()).toISOString() });
    if (!updated) throw new NotFoundError('authorization not found');
    return json(200, toAuthorizationJson(updated));
  },
});

const deleteAuthorization: AuthorizationRoute = ({ store }) => ({
  method: 'DELETE',
  path: `${AUTHORIZATIONS_BASE_PATH}/{id}`,
  summary: 'Revoke a token',
  responses: deleted,
  handler: async (req) => {
    const caller = callerOf(req);
    const current = await loadAuthorization(store, caller, param(req, 'id'));
    requireHolds(caller, current.permissions, 'cannot delete a token with');
    if (!(await store.delete(current.id))) throw new NotFoundError('authorization not found');
    return noContent();
  },
});

const AUTHORIZATION_ROUTES: readonly AuthorizationRoute[] = [
  createAuthorization,
  listAuthorizations,
  getAuthorization,
  updateAuthorization,
  deleteAuthorization,
];

/** `/api/v2/authorizations`: issue, list, read, (de)activate and revoke API tokens. */
export function authorizationRoutes(deps: AuthorizationRoutesDeps): RouteDef[] {
  const context: AuthorizationRoutesContext = {
    store: deps.store,
    createBody: authorizationCreateBody(deps.resources),
    now: deps.now ?? Date.now,
    newID: deps.newID,
  };
  return AUTHORIZATION_ROUTES.map((route) => route(context));
}
