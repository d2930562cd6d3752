import { GET, PUT, QUERY, type TableUse, UPDATE } from '../../store/access';
import { INDEX, PARTITION } from '../../store/keys';

/**
 * What the checks system's stores do to the table (see `TableUse`), apart from the stores
 * so that the module's declaration (lib/systems/checks/index.ts) brings no data-access code along.
 */

/** What each part of the status store does to the table (see `TableUse`). */
export const STATUS_STORE = {
  /** write, getState, setState: the check runner, in the check's partition. */
  writes: { name: 'status store: writes', actions: [PUT, GET, UPDATE], keyPrefixes: [PARTITION.task] },
  /** list: the checks API, in the check's partition. */
  reads: { name: 'status store: list', actions: [QUERY], keyPrefixes: [PARTITION.task] },
  /** writtenSince: the notification-rule runner reads an org's statuses through byOrgType. */
  orgReads: { name: 'status store: writtenSince', queries: [INDEX.byOrgType] },
} as const satisfies Record<string, TableUse>;
