import * as z from 'zod';

/**
 * What a token may touch: the permission resource of an API (`tasks`, `checks`,
 * `notificationRules`, `notificationEndpoints`, `authorizations`, or any registered system's). The list of
 * resources is not kept here: each system module names its own, and the system
 * registry (lib/systems/registry.ts) derives the list. A permission is always for
 * the token's own org; only the operator spans orgs.
 */
export type ResourceType = string;
const RESOURCE_NAME = /^[a-z][a-zA-Z]{0,31}$/;
export const resourceTypeSchema = z.string().regex(RESOURCE_NAME, 'must be a resource name such as tasks');

export const ACTIONS = ['read', 'write'] as const;
export type Action = (typeof ACTIONS)[number];

export interface Permission {
  action: Action;
  type: ResourceType;
}

/** The operator's token ID. Stored token IDs are ULIDs, so they can never be this. */
export const OPERATOR_TOKEN_ID = 'operator';

/** GET paths that API Gateway serves without an authorizer; local mode skips the check for them too. */
export const PUBLIC_GET_PATHS = ['/', '/health', '/api/v2/openapi.json'] as const;

/**
 * Who is calling, as every handler sees it. `orgID` undefined is the operator
 * (`Access` semantics: any org); `permissions` is `all` for the operator only.
 */
export interface Caller {
  /** The caller's org; undefined for the operator, who acts on any org. */
  orgID?: string | undefined;
  tokenID: string;
  permissions: 'all' | ReadonlySet<string>;
}

export const OPERATOR_CALLER: Caller = Object.freeze({ tokenID: OPERATOR_TOKEN_ID, permissions: 'all' });

const permissionKey = (action: Action, type: ResourceType) => `${action}:${type}`;

/**
 * Resource names Rota used before it took InfluxDB's, and what each grants now. Stored
 * tokens keep them (nothing rewrites a token item): every reader of a permission sees
 * them through `currentPermissions`, so an old `read:notifications` token reads rules
 * and endpoints as it always did.
 */
export const LEGACY_RESOURCES: Readonly<Record<string, readonly [ResourceType, ...ResourceType[]]>> =
  Object.freeze({ notifications: ['notificationRules', 'notificationEndpoints'] });

const currentTypes = (type: ResourceType): readonly ResourceType[] =>
  Object.hasOwn(LEGACY_RESOURCES, type) ? (LEGACY_RESOURCES[type] ?? [type]) : [type];

/** The permissions with legacy resource names replaced by what they grant now, each once. */
export function currentPermissions(permissions: readonly Permission[]): Permission[] {
  const out: Permission[] = [];
  for (const p of permissions) {
    for (const type of currentTypes(p.type)) {
      if (!out.some((q) => q.action === p.action && q.type === type)) out.push({ action: p.action, type });
    }
  }
  return out;
}

export function can(caller: Caller, action: Action, type: ResourceType): boolean {
  return caller.permissions === 'all' || caller.permissions.has(permissionKey(action, type));
}

/** `read:tasks,write:tasks`: the compact form that travels in the authorizer context. */
export function encodePermissions(permissions: readonly Permission[]): string {
  return [...new Set(currentPermissions(permissions).map((p) => permissionKey(p.action, p.type)))]
    .sort()
    .join(',');
}

const isPermissionKey = (key: string) => {
  const [action, type, ...rest] = key.split(':');
  return rest.length === 0 && ACTIONS.some((a) => a === action) && RESOURCE_NAME.test(type ?? '');
};

/**
 * Malformed entries are dropped rather than trusted: they can only ever grant less. A
 * well-formed one for a resource no API has grants nothing, as no route asks for it.
 * Legacy names are read as today's, for contexts encoded before the rename (an
 * authorizer answer API Gateway still caches).
 */
export function decodePermissions(encoded: string): ReadonlySet<string> {
  const keys = encoded.split(',').filter(isPermissionKey);
  return new Set(
    keys.flatMap((key) => {
      const [action, type] = key.split(':') as [Action, ResourceType];
      return currentTypes(type).map((t) => permissionKey(action, t));
    }),
  );
}

/**
 * Org IDs that tokens carry. Narrower than a task's orgID on purpose: no `#` or `~`
 * (they delimit index keys), no spaces or control characters (they end up in headers
 * and logs).
 */
export const tokenOrgIDSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/, 'must be 1–64 letters, digits, ".", "_", ":" or "-"');

export const authorizationStatusSchema = z.enum(['active', 'inactive']);
export type AuthorizationStatus = z.infer<typeof authorizationStatusSchema>;

/** A stored token: only the SHA-256 of its secret is kept. */
export interface Authorization {
  id: string;
  orgID: string;
  status: AuthorizationStatus;
  description: string;
  permissions: Permission[];
  /**
   * Who the token is for, as the creator named it (InfluxDB's `userID`). Rota has no
   * users: it is a label the `user` and `userID` filters match, not an identity.
   */
  userID?: string | undefined;
  /** Hex SHA-256 of the token's secret part. */
  tokenHash: string;
  createdAt: string;
  updatedAt: string;
}
