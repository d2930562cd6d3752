import { DELETE, GET, PUT, type TableUse, UPDATE } from '../store/access';
import { INDEX, PARTITION } from '../store/keys';

/**
 * What the token store and the org quota do to the table (see `TableUse`), apart from
 * the stores themselves so that importing a grant brings no data-access code along.
 */

/** What each part of the token store does to the table (see `TableUse`); token items only. */
export const AUTH_STORE = {
  /** create, get, update, delete, list: the authorizations API. */
  manage: {
    name: 'token store: manage',
    actions: [PUT, GET, UPDATE, DELETE],
    keyPrefixes: [PARTITION.auth],
    queries: [INDEX.byOrgType],
  },
  /** get: the authorizer, one token item per uncached request. */
  reads: { name: 'token store: get', actions: [GET], keyPrefixes: [PARTITION.auth] },
} as const satisfies Record<string, TableUse>;

/** acquire, release: whoever creates or deletes tasks (see `TableUse`). */
export const ORG_QUOTA_STORE = {
  name: 'org quota',
  actions: [UPDATE],
  keyPrefixes: [PARTITION.org],
} as const satisfies TableUse;
