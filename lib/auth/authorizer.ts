import { timingSafeEqual } from 'node:crypto';
import { UnauthorizedError } from '../errors';
import {
  type Caller,
  decodePermissions,
  encodePermissions,
  OPERATOR_CALLER,
  OPERATOR_TOKEN_ID,
} from './model';
import type { AuthStore } from './store';
import { parseStoredToken, secretMatches, sha256, tokenFromHeader } from './token';

/**
 * What the authorizer hands to the handlers: API Gateway puts it in
 * `event.requestContext.authorizer.lambda`, and local mode's HTTP adapter puts it
 * in the same place. Strings only, so it survives any transport unchanged.
 */
export interface AuthContext {
  /** '' for the operator and for a refused token. */
  orgID: string;
  /** A token ULID, `operator`, or '' for a refused token. */
  tokenID: string;
  /** `read:tasks,write:tasks`, `*` for the operator, '' for a refused token. */
  permissions: string;
  [key: string]: string;
}

/**
 * A refused token still passes API Gateway (`isAuthorized: true`) with this empty
 * context, and every handler answers it `401 unauthorized` in InfluxDB's error shape.
 * Denying at the gateway would answer `403 {"message":"Forbidden"}`, which InfluxDB
 * clients read as a permission problem rather than a bad token.
 */
export const DENIED: AuthContext = Object.freeze({ orgID: '', tokenID: '', permissions: '' });

/** The operator credential: the SHA-256 of its token, or undefined when none is configured. */
export type OperatorDigest = () => Promise<Buffer | undefined>;

export interface Authorizer {
  /** Checks an `Authorization` header value; never throws for a bad token, only for an outage. */
  authorize(header: string | undefined): Promise<AuthContext>;
}

export function createAuthorizer(deps: { store: AuthStore; operatorDigest: OperatorDigest }): Authorizer {
  return {
    async authorize(header) {
      const token = tokenFromHeader(header);
      if (token === undefined) return DENIED;

      const stored = parseStoredToken(token);
      if (!stored) {
        const digest = await deps.operatorDigest();
        const presented = sha256(token);
        if (digest && digest.length === presented.length && timingSafeEqual(presented, digest)) {
          return { orgID: '', tokenID: OPERATOR_TOKEN_ID, permissions: '*' };
        }
        return DENIED;
      }

      const authorization = await deps.store.get(stored.id);
      if (authorization?.status !== 'active') return DENIED;
      if (!secretMatches(stored.secret, Buffer.from(authorization.tokenHash, 'hex'))) return DENIED;
      return {
        orgID: authorization.orgID,
        tokenID: authorization.id,
        permissions: encodePermissions(authorization.permissions),
      };
    },
  };
}

const ULID = /^[0-9a-z]{26}$/;

/**
 * The caller an authorizer context names. Anything but a well-formed context is a
 * refused or missing token: the check fails closed.
 */
export function callerFromContext(context: unknown): Caller {
  const { orgID, tokenID, permissions } = (context ?? {}) as Partial<Record<string, unknown>>;
  if (tokenID === OPERATOR_TOKEN_ID && permissions === '*') return OPERATOR_CALLER;
  if (
    typeof tokenID !== 'string' ||
    !ULID.test(tokenID) ||
    typeof orgID !== 'string' ||
    orgID === '' ||
    typeof permissions !== 'string'
  ) {
    throw new UnauthorizedError();
  }
  return { orgID, tokenID, permissions: decodePermissions(permissions) };
}
