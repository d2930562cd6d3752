import * as z from 'zod';
import { encode } from '../../http/paging';

/**
 * InfluxDB pages checks, notification rules and endpoints with `offset` and `limit`
 * (1–100, default 20). Rota reads by key, so an offset is skipped page by page; it is
 * bounded so one request cannot make thousands of reads.
 */
export const MAX_OFFSET = 10_000;
const SKIP_PAGE = 100;

export const offsetPaging = {
  offset: z.coerce.number().int().min(0).max(MAX_OFFSET).default(0),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  /** Rota's own cursor, still accepted: the id a previous page ended with. */
  after: z.string().min(1).max(64).optional(),
};

/** InfluxDB's Links. */
export const offsetLinksSchema = z.object({
  self: z.string(),
  next: z.string().optional(),
  prev: z.string().optional(),
});

export interface OffsetPage<T> {
  items: T[];
  more: boolean;
}

/** One page of a list that reads `limit` items after a cursor, with `offset` items skipped first. */
export async function pageByOffset<T extends { id: string }>(
  read: (after: string | undefined, limit: number) => Promise<{ items: T[]; more: boolean }>,
  { offset, limit, after }: { offset: number; limit: number; after?: string | undefined },
): Promise<OffsetPage<T>> {
  let cursor = after;
  for (let skip = offset; skip > 0; ) {
    const page = await read(cursor, Math.min(SKIP_PAGE, skip));
    const last = page.items.at(-1);
    if (!last || !page.more) return { items: [], more: false };
    cursor = last.id;
    skip -= page.items.length;
  }
  return read(cursor, limit);
}

/** InfluxDB's Links for an offset page: `self`, and `next` and `prev` where they exist. */
export function offsetLinks(
  basePath: string,
  query: Record<string, string | number | undefined>,
  { offset, limit }: { offset: number; limit: number },
  more: boolean,
): { self: string; next?: string; prev?: string } {
  const at = (o: number) => `${basePath}?${encode({ ...query, offset: o || undefined, limit })}`;
  return {
    self: at(offset),
    ...(more ? { next: at(offset + limit) } : {}),
    ...(offset > 0 ? { prev: at(Math.max(0, offset - limit)) } : {}),
  };
}
