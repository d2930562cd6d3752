import { DELETE, GET, PUT, QUERY, type TableUse, UPDATE } from '../../store/access';
import { INDEX, PARTITION } from '../../store/keys';

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
  /** the org directory: registered on create, read by the operator's every-org list. */
  directory: {
    name: 'label store: org directory',
    actions: [GET, UPDATE],
    keyPrefixes: [PARTITION.orgs],
  },
  /** attach, detach, and read the mappings of a resource or of a kind in an org: the labelled resources' APIs. */
  mappings: {
    name: 'label store: mappings',
    actions: [PUT, DELETE, QUERY],
    keyPrefixes: [LABEL_MAP_PARTITION],
  },
  /** get a label to attach, list the org's labels to show: the labelled resources' APIs. */
  reads: {
    name: 'label store: reads',
    actions: [GET],
    keyPrefixes: [LABEL_PARTITION],
    queries: [INDEX.byOrgType],
  },
} as const satisfies Record<string, TableUse>;

/** What an API whose resources carry labels does to the table for them. */
export const LABELLED_RESOURCE: readonly TableUse[] = [LABEL_STORE.mappings, LABEL_STORE.reads];
