import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';

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
