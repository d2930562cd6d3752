import type { RotaTable, TableSender } from './table';

/**
 * The orgs that hold some kind of item (tokens, one system's tasks), one string set
 * per directory: the operator lists every org's items by querying each org's
 * byOrgType partition, never by a Scan on a request path.
 */
export interface OrgDirectory {
  /** Idempotent; written before the item, so no item's org is ever missing. */
  register(orgID: string): Promise<void>;
  /** Every org registered, sorted. */
  orgs(): Promise<string[]>;
}

type DirectoryKey = { PK: string; SK: string };

const ATTR_ORG_IDS = 'orgIDs';

/**
 * The directories `keyOf` places: one per name (`directory`) it is given. Plain
 * requests, not an entity: every function with a task store carries this, and a
 * toolbox entity with a set schema cost each bundle 3.7 KB.
 */
export function orgDirectories(
  table: RotaTable,
  send: TableSender,
  keyOf: (directory: string) => DirectoryKey,
): (directory: string) => OrgDirectory {
  const TableName = table.getName();
  return (directory) => ({
    async register(orgID) {
      await send.write({
        TableName,
        Key: keyOf(directory),
        UpdateExpression: 'ADD #orgs :org',
        ExpressionAttributeNames: { '#orgs': ATTR_ORG_IDS },
        ExpressionAttributeValues: { ':org': new Set([orgID]) },
      });
    },
    async orgs() {
      const found = await send.get({ TableName, Key: keyOf(directory) });
      const orgIDs = found?.[ATTR_ORG_IDS];
      return orgIDs instanceof Set
        ? [...orgIDs].filter((o): o is string => typeof o === 'string').sort()
        : [];
    },
  });
}

/** A few orgs at a time: a directory of thousands must not open thousands of sockets. */
const ORGS_AT_ONCE = 16;

/**
 * One page over every org: `pageOf` answers up to `limit + 1` of one org's items past
 * the cursor; ULIDs sort by creation across orgs, so one merge by id pages them all.
 */
export async function mergedPage<T extends { id: string }>(
  orgs: readonly string[],
  limit: number,
  pageOf: (orgID: string) => Promise<T[]>,
): Promise<{ items: T[]; more: boolean }> {
  const pages: T[][] = [];
  for (let i = 0; i < orgs.length; i += ORGS_AT_ONCE) {
    pages.push(...(await Promise.all(orgs.slice(i, i + ORGS_AT_ONCE).map(pageOf))));
  }
  const merged = pages.flat().sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { items: merged.slice(0, limit), more: merged.length > limit };
}
