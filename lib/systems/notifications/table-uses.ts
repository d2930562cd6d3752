import { DELETE, GET, PUT, QUERY, type TableUse, UPDATE } from '../../store/access';
import { INDEX, PARTITION } from '../../store/keys';

/**
 * What the notifications system's stores do to the table (see `TableUse`), apart from the
 * stores so that the module's declaration (lib/systems/notifications/index.ts) brings no
 * data-access code along.
 */

/** Endpoints live in a partition of their own, `ENDPOINT#<id>` (see endpoint-store.ts). */
export const ENDPOINT_PARTITION = 'ENDPOINT#';

/** What each part of the endpoint store does to the table (see `TableUse`). */
export const ENDPOINT_STORE = {
  /** create, get, replace, delete, list: the endpoints API. */
  manage: {
    name: 'endpoint store: manage',
    actions: [PUT, GET, DELETE],
    keyPrefixes: [ENDPOINT_PARTITION],
    queries: [INDEX.byOrgType],
  },
  /** get: rules name their endpoint; the rule runner sends to it. */
  reads: { name: 'endpoint store: get', actions: [GET], keyPrefixes: [ENDPOINT_PARTITION] },
} as const satisfies Record<string, TableUse>;

/** What each part of the notification log does to the table (see `TableUse`); it lives in the rule's partition. */
export const NOTIFICATION_LOG_STORE = {
  /** claim, settle, cursor, setCursor: the rule runner. */
  writes: { name: 'notification log: writes', actions: [PUT, UPDATE, GET], keyPrefixes: [PARTITION.task] },
  /** list: the rules API. */
  reads: { name: 'notification log: list', actions: [QUERY], keyPrefixes: [PARTITION.task] },
} as const satisfies Record<string, TableUse>;
