import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { Entity } from 'dynamodb-toolbox/entity';
import { DeleteItemCommand } from 'dynamodb-toolbox/entity/actions/delete';
import { EntityFormatter } from 'dynamodb-toolbox/entity/actions/format';
import { GetItemCommand } from 'dynamodb-toolbox/entity/actions/get';
import { PutItemCommand } from 'dynamodb-toolbox/entity/actions/put';
import { any } from 'dynamodb-toolbox/schema/any';
import { item } from 'dynamodb-toolbox/schema/item';
import { number } from 'dynamodb-toolbox/schema/number';
import { string } from 'dynamodb-toolbox/schema/string';
import { QueryCommand } from 'dynamodb-toolbox/table/actions/query';
import { wrote } from '../../store/items';
import { ATTR, INDEX } from '../../store/keys';
import { type RotaTable, rotaTable, tableSender } from '../../store/table';
import type { NotificationEndpoint } from './endpoint-model';

/**
 * The notifications system's endpoint items, declared here rather than in the core's
 * key module: `ENDPOINT#<id>` / `ENDPOINT`, listed per org through byOrgType under
 * `<org>#~endpoint` (`~` never appears in a system type, so it never meets a task's).
 */
const ENDPOINT_SK = 'ENDPOINT';
const orgEndpointsPk = (orgID: string) => `${orgID}#~endpoint`;

/** A credential field: a sealed envelope once stored, so its stored form is the secret box's. */
const sealable = () => any().optional();

export const endpointEntity = (table: RotaTable) =>
  new Entity({
    entityAttribute: false,
    timestamps: false,
    name: 'notificationEndpoint',
    table,
    schema: item({
      id: string().key(),
      orgID: string(),
      type: string().enum('http', 'slack', 'pagerduty', 'telegram'),
      name: string(),
      status: string().enum('active', 'inactive'),
      description: string(),
      createdAt: string(),
      updatedAt: string(),
      version: number(),
      // The fields of one type or another (endpoint-model.ts); a Slack URL is sealed.
      url: sealable(),
      urlOrigin: string().optional(),
      method: string().optional(),
      headers: any().optional(),
      authMethod: string().optional(),
      username: string().optional(),
      password: sealable(),
      token: sealable(),
      routingKey: sealable(),
      clientURL: string().optional(),
      channel: string().optional(),
      orgTypePk: string().optional().savedAs(ATTR.orgTypePk),
      orgTypeSk: string().optional().savedAs(ATTR.orgTypeSk),
    }),
    computeKey: ({ id }) => ({ [ATTR.pk]: `${ENDPOINT_PARTITION}${id}`, [ATTR.sk]: ENDPOINT_SK }),
  });

import { ENDPOINT_PARTITION } from './table-uses';

export { ENDPOINT_PARTITION, ENDPOINT_STORE } from './table-uses';

/** What the endpoint store's operations share: the endpoint entity, its table, the sender. */
function endpointItems(client: DynamoDBClient, tableName: string) {
  const table = rotaTable(tableName);
  const endpoints = endpointEntity(table);
  const formatter = endpoints.build(EntityFormatter);
  const toEndpoint = (stored: Record<string, unknown>) => {
    const { orgTypePk: _pk, orgTypeSk: _sk, ...endpoint } = formatter.format(stored);
    // The schema checks every field's type; which fields go with which `type` is the
    // model's union, checked by zod when the endpoint was written.
    return endpoint as NotificationEndpoint;
  };
  const put = (e: NotificationEndpoint) =>
    endpoints.build(PutItemCommand).item({ ...e, orgTypePk: orgEndpointsPk(e.orgID), orgTypeSk: e.id });
  return { table, endpoints, send: tableSender(client), toEndpoint, put };
}

type EndpointItems = ReturnType<typeof endpointItems>;

/** Notification endpoints are plain items, not tasks; listed per org through byOrgType. */
export function createEndpointStore({ client, tableName }: { client: DynamoDBClient; tableName: string }) {
  const store = endpointItems(client, tableName);
  return {
    create: (e: NotificationEndpoint) =>
      wrote(() =>
        store.send.put(
          store
            .put(e)
            .options({ condition: { attr: 'id', exists: false } })
            .params(),
        ),
      ),
    get: (id: string) => getEndpoint(store, id),
    /** Replaces the whole endpoint if it is still at `expectedVersion`. */
    replace: (e: NotificationEndpoint, expectedVersion: number) =>
      wrote(() =>
        store.send.put(
          store
            .put(e)
            .options({ condition: { attr: 'version', eq: expectedVersion } })
            .params(),
        ),
      ),
    remove: (id: string) => removeEndpoint(store, id),
    list: (orgID: string, after: string | undefined, limit: number) =>
      listEndpoints(store, orgID, after, limit),
  };
}

export type EndpointStore = ReturnType<typeof createEndpointStore>;

async function getEndpoint(store: EndpointItems, id: string): Promise<NotificationEndpoint | undefined> {
  const get = store.endpoints.build(GetItemCommand).key({ id }).options({ consistent: true });
  const stored = await store.send.get(get.params());
  return stored ? store.toEndpoint(stored) : undefined;
}

async function removeEndpoint(store: EndpointItems, id: string): Promise<boolean> {
  const del = store.endpoints
    .build(DeleteItemCommand)
    .key({ id })
    .options({ condition: { attr: 'id', exists: true } });
  return wrote(() => store.send.delete(del.params()));
}

async function listEndpoints(store: EndpointItems, orgID: string, after: string | undefined, limit: number) {
  const params = store.table
    .build(QueryCommand)
    .entities(store.endpoints)
    .query({
      index: INDEX.byOrgType,
      partition: orgEndpointsPk(orgID),
      ...(after ? { range: { gt: after } } : {}),
    })
    .options({ limit: limit + 1 })
    .params();
  const found = (await store.send.query(params)).items.map(store.toEndpoint);
  return { endpoints: found.slice(0, limit), more: found.length > limit };
}
