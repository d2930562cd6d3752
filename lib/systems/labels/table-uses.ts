import { DELETE, GET, PUT, QUERY, type TableUse } from '../../store/access';
import { INDEX } from '../../store/keys';

/**
 * What the label store does to the table (see `TableUse`), apart from the store so that
 * a module's declaration brings no data-access code along.
 *
 * | item       | PK                          | SK                     |
 * |------------|-----------------------------|------------------------|
 * | label      | LABEL#<id>                  | LABEL (byOrgType: `<org>#~label` → id) |
 * | name claim | LABELNAME#<org>#<name>      | NAME (the labelID holding the name)     |
 * | mapping    | LABELMAP#<org>#<kind>       | `<resourceID>#<labelID>`                |
 */
export const LABEL_PARTITION = 'LABEL#';
export const LABEL_NAME_PARTITION = 'LABELNAME#';
export const LABEL_MAP_PARTITION = 'LABELMAP#';

export const LABEL_STORE = {
  /** create, get, rename, delete, list: the labels API. */
  manage: {
    name: 'label store: manage',
    actions: [PUT, GET, DELETE],
    keyPrefixes: [LABEL_PARTITION, LABEL_NAME_PARTITION],
    queries: [INDEX.byOrgType],
  },
  /**
   * attach, detach, the labels of a resource or of every resource of a kind in an org:
   * the APIs of the labelled resources, which also read the org's labels.
   */
  mappings: {
    name: 'label store: mappings',
    actions: [PUT, GET, DELETE, QUERY],
    keyPrefixes: [LABEL_PARTITION, LABEL_MAP_PARTITION],
    queries: [INDEX.byOrgType],
  },
} as const satisfies Record<string, TableUse>;
