import { Entity } from 'dynamodb-toolbox/entity';
import { GetItemCommand } from 'dynamodb-toolbox/entity/actions/get';
import { UpdateItemCommand } from 'dynamodb-toolbox/entity/actions/update';
import { $add } from 'dynamodb-toolbox/entity/actions/update/symbols';
import { item } from 'dynamodb-toolbox/schema/item';
import { set } from 'dynamodb-toolbox/schema/set';
import { string } from 'dynamodb-toolbox/schema/string';
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

const directoryEntity = (table: RotaTable, keyOf: (directory: string) => DirectoryKey) =>
  new Entity({
    entityAttribute: false,
    timestamps: false,
    name: 'orgDirectory',
    table,
    schema: item({ directory: string().key(), orgIDs: set(string()).optional() }),
    computeKey: ({ directory }) => keyOf(directory),
  });

const ATTR_ORG_IDS = 'orgIDs';

/** The directories `keyOf` places: one per name (`directory`) it is given. */
export function orgDirectories(
  table: RotaTable,
  send: TableSender,
  keyOf: (directory: string) => DirectoryKey,
): (directory: string) => OrgDirectory {
  const entity = directoryEntity(table, keyOf);
  return (directory) => ({
    async register(orgID) {
      const params = entity
        .build(UpdateItemCommand)
        .item({ directory, orgIDs: $add(new Set([orgID])) })
        .params();
      await send.update(params);
    },
    async orgs() {
      const found = await send.get(entity.build(GetItemCommand).key({ directory }).params());
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
