import { type AttributeValue, ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { ATTR } from './keys';

const KEY_ATTRS: readonly string[] = Object.values(ATTR);

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

/** A stored item as its domain object: key and index attributes, and any `internal` ones, removed. */
export function fromItem<T>(item: Record<string, AttributeValue>, internal: readonly string[] = []): T {
  const raw = unmarshall(item);
  for (const attr of KEY_ATTRS) delete raw[attr];
  for (const attr of internal) delete raw[attr];
  return raw as T;
}
