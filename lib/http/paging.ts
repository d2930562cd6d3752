import * as z from 'zod';
import { UnprocessableEntityError } from '../errors';

/** InfluxDB paging: `limit` 1–500 (default 100) and an `after` id cursor. */
export const pagingQuery = {
  after: z.string().min(1).max(64).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
};

export const MAX_TASK_PAGE = 500;

/**
 * The tasks and runs paging of InfluxDB: a `limit` that is an integer but outside 1–500
 * is `unprocessable entity` (422) with InfluxDB's wording, not `invalid`; the range is
 * checked by `checkTaskPageLimit` after parsing, since a zod issue is always `invalid`.
 */
export const taskPagingQuery = {
  after: pagingQuery.after,
  limit: z.coerce
    .number()
    .int()
    .default(100)
    .describe(`1 to ${MAX_TASK_PAGE}; outside that range the answer is 422 unprocessable entity`),
};

export function checkTaskPageLimit(limit: number): number {
  if (limit < 1 || limit > MAX_TASK_PAGE) {
    throw new UnprocessableEntityError(`limit must be between 1 and ${MAX_TASK_PAGE}`);
  }
  return limit;
}

/** `{self, next?}` links in InfluxDB's shape: `next` repeats the query with `after` moved on. */
export function pageLinks(
  basePath: string,
  query: Record<string, string | number | undefined>,
  lastID: string | undefined,
  more: boolean,
): { self: string; next?: string } {
  const self = `${basePath}?${encode(query)}`;
  if (!more || lastID === undefined) return { self };
  return { self, next: `${basePath}?${encode({ ...query, after: lastID })}` };
}

export function encode(query: Record<string, string | number | undefined>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== '') params.set(key, String(value));
  }
  return params.toString();
}
