import * as z from 'zod';

/** InfluxDB paging: `limit` 1–500 (default 100) and an `after` id cursor. */
export const pagingQuery = {
  after: z.string().min(1).max(64).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
};

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
