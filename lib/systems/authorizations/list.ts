import * as z from 'zod';
import type { Authorization, Caller } from '../../auth/model';
import type { AuthStore } from '../../auth/store';
import { parseStoredToken, secretMatches } from '../../auth/token';
import { ForbiddenError, InvalidError } from '../../errors';
import { pagingQuery } from '../../http/paging';

// Which authorizations a request may name and a list returns: the org scope every
// route shares, and the list's filters.

/** InfluxDB's `userID`: Rota has no users, so it is a label a token carries. */
export const userIDSchema = z.string().min(1).max(64);

/**
 * InfluxDB's filters, every one honoured: `org` is an org ID too (Rota has no org
 * names), `user` and `userID` both match the `userID` a token was created with (Rota
 * has no users or user names), and `token` finds the one authorization whose token it is.
 */
export const listAuthorizationsQuery = z.object({
  ...pagingQuery,
  orgID: z.string().min(1).max(64).optional(),
  org: z.string().min(1).max(64).optional(),
  userID: userIDSchema.optional(),
  user: userIDSchema.optional(),
  token: z.string().min(1).max(1024).optional(),
});

export type ListAuthorizationsQuery = z.output<typeof listAuthorizationsQuery>;

/** The org a request names (or the caller's), refused when the caller's token is another org's. */
export function orgInScope(caller: Caller, given: string | undefined): string {
  const orgID = given ?? caller.orgID;
  if (orgID === undefined) throw new InvalidError('orgID is required');
  if (caller.orgID !== undefined && caller.orgID !== orgID) {
    throw new ForbiddenError('orgID does not match the caller');
  }
  return orgID;
}

interface ListFilters {
  orgID: string | undefined;
  /** null: `user` and `userID` disagree, so nothing matches. */
  userID: string | undefined | null;
  token?: string | undefined;
  after?: string | undefined;
  limit: number;
}

export async function findAuthorizations(
  store: AuthStore,
  caller: Caller,
  { orgID, userID, token, after, limit }: ListFilters,
): Promise<{ authorizations: Authorization[]; more: boolean }> {
  if (userID === null) return { authorizations: [], more: false };
  if (token === undefined) return store.list({ orgID, userID, after, limit });
  const found = await byToken(store, caller, token);
  const matches = found.filter(
    (a) => (orgID === undefined || a.orgID === orgID) && (userID === undefined || a.userID === userID),
  );
  return { authorizations: matches, more: false };
}

/** The org a list is confined to: the one named, else the caller's; undefined is every org (the operator). */
export function listedOrg(caller: Caller, query: ListAuthorizationsQuery): string | undefined {
  const named = sameOrNone(query.orgID, query.org);
  if (named === null)
    throw new InvalidError('orgID and org name different orgs: give one, or the same ID in both');
  if (named === undefined) return caller.orgID;
  return orgInScope(caller, named);
}

/** Two spellings of one filter: the value, undefined for neither, null when they disagree. */
export function sameOrNone(a: string | undefined, b: string | undefined): string | undefined | null {
  if (a !== undefined && b !== undefined && a !== b) return null;
  return a ?? b;
}

/** The authorization whose token `token` is, as a list; empty when none is, or the caller may not see it. */
async function byToken(store: AuthStore, caller: Caller, token: string): Promise<Authorization[]> {
  const parsed = parseStoredToken(token);
  if (!parsed) return [];
  const found = await store.get(parsed.id);
  if (!found || !secretMatches(parsed.secret, Buffer.from(found.tokenHash, 'hex'))) return [];
  return caller.orgID === undefined || caller.orgID === found.orgID ? [found] : [];
}
