import type { INDEX } from './keys';

/** The DynamoDB actions Rota's stores use; nothing else is ever granted on the table. */
export type TableAction =
  | 'dynamodb:GetItem'
  | 'dynamodb:PutItem'
  | 'dynamodb:UpdateItem'
  | 'dynamodb:DeleteItem'
  | 'dynamodb:Query'
  | 'dynamodb:BatchWriteItem';

export type IndexName = (typeof INDEX)[keyof typeof INDEX];

/**
 * What one part of a store does to the table, declared beside the code that makes the
 * calls. The construct grants each function the union of the uses its code reaches
 * (`ApiFunctionSpec.table`), so the actions, the partition key prefixes
 * (`dynamodb:LeadingKeys`) and the indexes of a role all come from here, and the IAM
 * contract (test/contract) fails on a call that no declared use covers.
 */
export interface TableUse {
  /** For the least-privilege report: which store and which of its operations. */
  readonly name: string;
  /** Actions on items of the table (a Query on the table included). */
  readonly actions?: readonly TableAction[];
  /** Partition key prefixes of every item those actions touch (`TASK#`). */
  readonly keyPrefixes?: readonly string[];
  /** Indexes it queries; a Query on an index needs the index's own ARN. */
  readonly queries?: readonly IndexName[];
}

export const GET = 'dynamodb:GetItem';
export const PUT = 'dynamodb:PutItem';
export const UPDATE = 'dynamodb:UpdateItem';
export const DELETE = 'dynamodb:DeleteItem';
export const QUERY = 'dynamodb:Query';
export const BATCH_WRITE = 'dynamodb:BatchWriteItem';
