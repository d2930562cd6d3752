import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { ATTR } from './keys';

/**
 * Runs a conditional write. A failed condition is an expected outcome (a lost race,
 * a taken slot, an existing id), so it is a return value, `undefined`, not an error.
 */
export async function whenConditionHolds<T>(send: () => Promise<T>): Promise<T | undefined> {
  try {
    return await send();
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return undefined;
    throw error;
  }
}

/** Whether a conditional write went through; false when its condition failed. */
export async function wrote(send: () => Promise<unknown>): Promise<boolean> {
  return (await whenConditionHolds(async () => (await send()) ?? true)) !== undefined;
}

/**
 * A stored item through a dynamodb-toolbox formatter. An item that breaks the schema
 * throws naming its key, as the entity formatter's errors do, so it can be found.
 */
export function formatStored<T>(formatter: { format(item: unknown): T }, item: Record<string, unknown>): T {
  try {
    return formatter.format(item);
  } catch (error) {
    if (error instanceof Error)
      error.message += ` Partition key: ${item[ATTR.pk]} / Sort key: ${item[ATTR.sk]}`;
    throw error;
  }
}
