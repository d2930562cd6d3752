import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { Entity } from 'dynamodb-toolbox/entity';
import { DeleteItemCommand } from 'dynamodb-toolbox/entity/actions/delete';
import { EntityFormatter } from 'dynamodb-toolbox/entity/actions/format';
import { GetItemCommand } from 'dynamodb-toolbox/entity/actions/get';
import type { Condition } from 'dynamodb-toolbox/entity/actions/parseCondition';
import { PutItemCommand } from 'dynamodb-toolbox/entity/actions/put';
import { any } from 'dynamodb-toolbox/schema/any';
import { item } from 'dynamodb-toolbox/schema/item';
import { number } from 'dynamodb-toolbox/schema/number';
import { string } from 'dynamodb-toolbox/schema/string';
import { QueryCommand } from 'dynamodb-toolbox/table/actions/query';
import { formatStored, wrote } from '../../store/items';
import { ATTR, INDEX, taskOrgsKey } from '../../store/keys';
import { orgDirectories } from '../../store/org-directory';
import { type RotaTable, rotaTable, tableSender } from '../../store/table';
import type { Label } from './model';
import { LABEL_MAP_PARTITION, LABEL_NAME_PARTITION, LABEL_PARTITION } from './table-uses';

export { LABEL_STORE } from './table-uses';

/** The kinds of resource a label attaches to; each names a partition of mappings per org. */
const LABELLED_KINDS = ['task', 'check', 'notificationRule', 'notificationEndpoint'] as const;
export type LabelledKind = (typeof LABELLED_KINDS)[number];

const LABEL_SK = 'LABEL';
/**
 * How old a claim must be before a create may take it over when its label does not
 * exist: a younger one may belong to a create still writing its label.
 */
const STALE_CLAIM_MS = 60_000;
const NAME_SK = 'NAME';
const orgLabelsPk = (orgID: string) => `${orgID}#~label`;
const mapPk = (orgID: string, kind: LabelledKind) => `${LABEL_MAP_PARTITION}${orgID}#${kind}`;
/** `#` never appears in a resource id Rota makes (ulids), so the prefix ends at the resource. */
const mapSk = (resourceID: string, labelID: string) => `${resourceID}#${labelID}`;

const labelEntity = (table: RotaTable) =>
  new Entity({
    entityAttribute: false,
    timestamps: false,
    name: 'label',
    table,
    schema: item({
      id: string().key(),
      orgID: string(),
      name: string(),
      // String to string, checked by zod when it was written (a record schema would add 5 KB to every bundle).
      properties: any(),
      version: number(),
      orgTypePk: string().optional().savedAs(ATTR.orgTypePk),
      orgTypeSk: string().optional().savedAs(ATTR.orgTypeSk),
    }),
    computeKey: ({ id }) => ({ [ATTR.pk]: `${LABEL_PARTITION}${id}`, [ATTR.sk]: LABEL_SK }),
  });

/** Holds a label name in its org: the one write that makes names unique without a transaction. */
const nameEntity = (table: RotaTable) =>
  new Entity({
    entityAttribute: false,
    timestamps: false,
    name: 'labelName',
    table,
    schema: item({ orgID: string().key(), name: string().key(), labelID: string(), claimedAt: number() }),
    // The org is escaped (`#` → `%23`), so no org and name pair can spell another's key.
    computeKey: ({ orgID, name }) => ({
      [ATTR.pk]: `${LABEL_NAME_PARTITION}${encodeURIComponent(orgID)}#${name}`,
      [ATTR.sk]: NAME_SK,
    }),
  });

const mappingEntity = (table: RotaTable) =>
  new Entity({
    entityAttribute: false,
    timestamps: false,
    name: 'labelMapping',
    table,
    schema: item({
      orgID: string().key(),
      kind: string()
        .enum(...LABELLED_KINDS)
        .key(),
      resourceID: string().key(),
      labelID: string().key(),
    }),
    computeKey: ({ orgID, kind, resourceID, labelID }) => ({
      [ATTR.pk]: mapPk(orgID, kind),
      [ATTR.sk]: mapSk(resourceID, labelID),
    }),
  });

function labelItems(client: DynamoDBClient, tableName: string) {
  const table = rotaTable(tableName);
  const labels = labelEntity(table);
  const names = nameEntity(table);
  const mappings = mappingEntity(table);
  const labelFormat = labels.build(EntityFormatter);
  const mappingFormat = mappings.build(EntityFormatter);
  const toLabel = (stored: Record<string, unknown>): Label => {
    const { orgTypePk: _pk, orgTypeSk: _sk, ...label } = formatStored(labelFormat, stored);
    return label as Label;
  };
  const toMapping = (stored: Record<string, unknown>) => formatStored(mappingFormat, stored);
  const send = tableSender(client);
  // The orgs that hold labels, for the operator's every-org list (lib/store/org-directory.ts).
  const orgs = orgDirectories(table, send, taskOrgsKey)(LABELS_DIRECTORY);
  return { table, labels, names, mappings, send, orgs, toLabel, toMapping };
}

/** Labels' own org directory, beside the task types' (`~` is in no system type). */
const LABELS_DIRECTORY = '~label';

type LabelItems = ReturnType<typeof labelItems>;

/** What a write of a label's name answers: written, or the name is another label's. */
export type NameOutcome = 'ok' | 'name taken' | 'changed';

/**
 * Labels: plain items listed per org through byOrgType, names unique per org, and their
 * mappings to resources in one partition per org and resource kind, so the labels of a
 * whole list of resources are one Query (and one more for the org's labels).
 */
export function createLabelStore({ client, tableName }: { client: DynamoDBClient; tableName: string }) {
  const store = labelItems(client, tableName);
  return {
    create: (label: Label) => createLabel(store, label),
    get: (id: string) => getLabel(store, id),
    /** Replaces the label if it is still at `expectedVersion`, moving its name claim if it was renamed. */
    replace: (current: Label, next: Label) => replaceLabel(store, current, next),
    remove: (label: Label) => removeLabel(store, label),
    list: (orgID: string) => listLabels(store, orgID),
    /** Every org's labels, for the operator: InfluxDB lists them unpaged, and so does Rota. */
    listEverywhere: async () =>
      (await Promise.all((await store.orgs.orgs()).map((orgID) => listLabels(store, orgID))))
        .flat()
        .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
    attach: (orgID: string, kind: LabelledKind, resourceID: string, labelID: string) =>
      store.send.put(
        store.mappings.build(PutItemCommand).item({ orgID, kind, resourceID, labelID }).params(),
      ),
    detach: (orgID: string, kind: LabelledKind, resourceID: string, labelID: string) =>
      wrote(() =>
        store.send.delete(
          store.mappings
            .build(DeleteItemCommand)
            .key({ orgID, kind, resourceID, labelID })
            .options({ condition: { attr: 'labelID', exists: true } })
            .params(),
        ),
      ),
    /** The labels attached to one resource: one Query of its mappings, one of the org's labels. */
    labelsOf: async (orgID: string, kind: LabelledKind, resourceID: string) =>
      (await labelsByResource(store, orgID, kind, resourceID)).get(resourceID) ?? [],
    /** The labels of every resource of `kind` in the org, by resource id: two Queries, whatever the list's length. */
    labelsByResource: (orgID: string, kind: LabelledKind) => labelsByResource(store, orgID, kind),
  };
}

export type LabelStore = ReturnType<typeof createLabelStore>;

async function claimName(store: LabelItems, label: Label): Promise<boolean> {
  const claimedAt = Date.now();
  const claim = (condition: Condition<LabelItems['names']>) =>
    wrote(() =>
      store.send.put(
        store.names
          .build(PutItemCommand)
          .item({ orgID: label.orgID, name: label.name, labelID: label.id, claimedAt })
          .options({ condition })
          .params(),
      ),
    );
  if (await claim({ attr: 'labelID', exists: false })) return true;
  const held = await store.send.get(
    store.names
      .build(GetItemCommand)
      .key({ orgID: label.orgID, name: label.name })
      .options({ consistent: true })
      .params(),
  );
  const holderID = typeof held?.labelID === 'string' ? held.labelID : undefined;
  const heldAt = typeof held?.claimedAt === 'number' ? held.claimedAt : undefined;
  if (holderID === undefined || holderID === label.id) return holderID === label.id;
  if (heldAt === undefined || claimedAt - heldAt < STALE_CLAIM_MS) return false;
  // A claim left behind by a write that stopped halfway (no transactions) is taken over.
  const holder = await getLabel(store, holderID);
  if (holder && holder.name === label.name && holder.orgID === label.orgID) return false;
  return claim({
    and: [
      { attr: 'labelID', eq: holderID },
      { attr: 'claimedAt', eq: heldAt },
    ],
  });
}

const releaseName = (store: LabelItems, label: Pick<Label, 'orgID' | 'name' | 'id'>) =>
  wrote(() =>
    store.send.delete(
      store.names
        .build(DeleteItemCommand)
        .key({ orgID: label.orgID, name: label.name })
        .options({ condition: { attr: 'labelID', eq: label.id } })
        .params(),
    ),
  );

const putLabel = (store: LabelItems, label: Label, condition: Condition<LabelItems['labels']>) =>
  wrote(() =>
    store.send.put(
      store.labels
        .build(PutItemCommand)
        .item({ ...label, orgTypePk: orgLabelsPk(label.orgID), orgTypeSk: label.id })
        .options({ condition })
        .params(),
    ),
  );

async function createLabel(store: LabelItems, label: Label): Promise<NameOutcome> {
  // Before the label, so that no label's org is ever missing from the directory.
  await store.orgs.register(label.orgID);
  if (!(await claimName(store, label))) return 'name taken';
  if (await putLabel(store, label, { attr: 'id', exists: false })) return 'ok';
  await releaseName(store, label);
  return 'changed';
}

async function replaceLabel(store: LabelItems, current: Label, next: Label): Promise<NameOutcome> {
  const renamed = next.name !== current.name;
  if (renamed && !(await claimName(store, next))) return 'name taken';
  if (!(await putLabel(store, next, { attr: 'version', eq: current.version }))) {
    if (renamed) await releaseName(store, next);
    return 'changed';
  }
  if (renamed) await releaseName(store, current);
  return 'ok';
}

async function removeLabel(store: LabelItems, label: Label): Promise<boolean> {
  const removed = await wrote(() =>
    store.send.delete(
      store.labels
        .build(DeleteItemCommand)
        .key({ id: label.id })
        .options({ condition: { attr: 'id', exists: true } })
        .params(),
    ),
  );
  if (removed) await releaseName(store, label);
  return removed;
}

async function getLabel(store: LabelItems, id: string): Promise<Label | undefined> {
  const get = store.labels.build(GetItemCommand).key({ id }).options({ consistent: true });
  const stored = await store.send.get(get.params());
  return stored ? store.toLabel(stored) : undefined;
}

/** Every page of a Query: an org's labels and mappings are few, and InfluxDB lists them unpaged. */
async function queryAll(
  store: LabelItems,
  build: (cursor: Record<string, unknown> | undefined) => Record<string, unknown>,
): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let cursor: Record<string, unknown> | undefined;
  do {
    const page = await store.send.query(build(cursor));
    items.push(...page.items);
    cursor = page.cursor;
  } while (cursor);
  return items;
}

async function listLabels(store: LabelItems, orgID: string): Promise<Label[]> {
  const items = await queryAll(store, (cursor) =>
    store.table
      .build(QueryCommand)
      .entities(store.labels)
      .query({ index: INDEX.byOrgType, partition: orgLabelsPk(orgID) })
      .options(cursor ? { exclusiveStartKey: cursor } : {})
      .params(),
  );
  return items.map(store.toLabel);
}

/**
 * Mappings whose label is gone are skipped: deleting a label leaves its mappings,
 * which nothing shows, and attaching it again is impossible (its id is never reused).
 */
async function labelsByResource(
  store: LabelItems,
  orgID: string,
  kind: LabelledKind,
  resourceID?: string,
): Promise<Map<string, Label[]>> {
  const [mapped, labels] = await Promise.all([
    queryAll(store, (cursor) =>
      store.table
        .build(QueryCommand)
        .entities(store.mappings)
        .query({
          partition: mapPk(orgID, kind),
          ...(resourceID ? { range: { beginsWith: `${resourceID}#` } } : {}),
        })
        .options(cursor ? { exclusiveStartKey: cursor } : {})
        .params(),
    ),
    listLabels(store, orgID),
  ]);
  const byID = new Map(labels.map((l) => [l.id, l]));
  const byResource = new Map<string, Label[]>();
  for (const stored of mapped) {
    const mapping = store.toMapping(stored);
    const label = byID.get(mapping.labelID);
    if (!label) continue;
    byResource.set(mapping.resourceID, [...(byResource.get(mapping.resourceID) ?? []), label]);
  }
  return byResource;
}
