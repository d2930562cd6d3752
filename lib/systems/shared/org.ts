import * as z from 'zod';
import { InvalidError } from '../../errors';
import { pagingQuery } from '../../http/paging';
import type { ApiRequest } from '../../http/request';

/** A list of one org's items: InfluxDB paging, and the org (an org token's own by default). */
export const orgListQuery = z.object({ ...pagingQuery, orgID: z.string().min(1).max(64).optional() });

/** The org a request names, or else the caller's; the operator must name one. */
export function orgOf(req: ApiRequest, given: string | undefined): string {
  const orgID = given ?? req.access.orgID;
  if (!orgID) throw new InvalidError('orgID is required');
  return orgID;
}
