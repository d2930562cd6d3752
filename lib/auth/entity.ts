import { Entity } from 'dynamodb-toolbox/entity';
import { item } from 'dynamodb-toolbox/schema/item';
import { list } from 'dynamodb-toolbox/schema/list';
import { map } from 'dynamodb-toolbox/schema/map';
import { number } from 'dynamodb-toolbox/schema/number';
import { string } from 'dynamodb-toolbox/schema/string';
import { ATTR, authKey, orgQuotaKey } from '../store/keys';
import type { RotaTable } from '../store/table';
import { ACTIONS, authorizationStatusSchema } from './model';

/**
 * The auth items of the core (keys in lib/store/keys.ts). Like every Rota entity they
 * write no entity name or timestamps, so items keep the size and shape they had.
 */
const plain = { entityAttribute: false, timestamps: false } as const;

/** An API token (`AUTH#<id>`), listed per org through byOrgType. Only its secret's hash is stored. */
export const authEntity = (table: RotaTable) =>
  new Entity({
    ...plain,
    name: 'authorization',
    table,
    schema: item({
      id: string().key(),
      orgID: string(),
      status: string().enum(...authorizationStatusSchema.options),
      description: string(),
      permissions: list(map({ action: string().enum(...ACTIONS), type: string() })),
      userID: string().optional(),
      tokenHash: string(),
      createdAt: string(),
      updatedAt: string(),
      orgTypePk: string().optional().savedAs(ATTR.orgTypePk),
      orgTypeSk: string().optional().savedAs(ATTR.orgTypeSk),
    }),
    computeKey: ({ id }) => authKey(id),
  });

/** An org's task counter (`ORG#<orgID>`), moved by conditional ADDs. */
export const orgQuotaEntity = (table: RotaTable) =>
  new Entity({
    ...plain,
    name: 'orgQuota',
    table,
    schema: item({ orgID: string().key(), tasks: number().optional() }),
    computeKey: ({ orgID }) => orgQuotaKey(orgID),
  });
