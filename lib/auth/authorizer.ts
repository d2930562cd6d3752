import { timingSafeEqual } from 'node:crypto';
import { UnauthorizedError } from '../errors';
import {
  type Caller,
  decodePermissions,
  encodePermissions,
  OPERATOR_CALLER,
  OPERATOR_TOKEN_ID,
} from './model';
import { parseStoredToken, secretMatches, sha256, tokenFromHeader } from './token';
import type { TokenReader } from './token-reader';

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
  /** Why a request was refused (a `Refusal`); absent when it was not. */
  refused?: string;
  [key: string]: string | undefined;
}

/** What a caller did wrong, told apart only as far as it reveals nothing about tokens. */
export type Refusal = 'header' | 'scheme' | 'token';

/**
 * The `401 unauthorized` messages. `token` covers an unknown id, a wrong secret and an
 * inactive token alike, so no answer says whether a token id exists.
 */
export const REFUSALS: Readonly<Record<Refusal, string>> = Object.freeze({
  header: 'no Authorization header: send "Authorization: Token <token>"',
  scheme: 'the Authorization header must read "Token <token>" (or "Bearer <token>")',
  token: 'the token is invalid or inactive',
});

const refusedWith = (refusal: Refusal): AuthContext =>
  Object.freeze({ orgID: '', tokenID: '', permissions: '', refused: refusal });

/**
 * A refused token still passes API Gateway (`isAuthorized: true`) with this empty
 * context, and every handler answers it `401 unauthorized` in InfluxDB's error shape.
 * Denying at the gateway would answer `403 {"message":"Forbidden"}`, which InfluxDB
 * clients read as a permission problem rather than a bad token.
 */
export const DENIED: AuthContext = refusedWith('token');
/** A header that is not `Token <token>` / `Bearer <token>`. */
export const DENIED_SCHEME: AuthContext = refusedWith('scheme');
/**
 * No header, or a blank one. On AWS it gets here too: the authorizer has no identity
 * source unless a cache is configured (infra/rota-api.ts), and then API Gateway answers it.
 */
export const DENIED_NO_HEADER: AuthContext = refusedWith('header');

/** The operator credential: the SHA-256 of its token, or undefined when none is configured. */
export type OperatorDigest = () => Promise<Buffer | undefined>;

export interface Authorizer {
  /** Checks an `Authorization` header value; never throws for a bad token, only for an outage. */
  authorize(header: string | undefined): Promise<AuthContext>;
}

export function createAuthorizer(deps: { store: TokenReader; operatorDigest: OperatorDigest }): Authorizer {
  return {
    async authorize(header) {
      if (header === undefined || header.trim() === '') return DENIED_NO_HEADER;
      const token = tokenFromHeader(header);
      if (token === undefined) return DENIED_SCHEME;

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
  const { orgID, tokenID, permissions, refused } = (context ?? {}) as Partial<Record<string, unknown>>;
  if (typeof refused === 'string' && Object.hasOwn(REFUSALS, refused))
    throw new UnauthorizedError(REFUSALS[refused as Refusal]);
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
