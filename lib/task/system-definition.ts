import type { z } from 'zod';

/**
 * A system owns one task type. Its module (lib/systems/<name>/) declares the type
 * and the zod schema of its metadata here, its HTTP translation beside it, and a
 * runner. The task core knows only this contract, never what a system does.
 */
export interface SystemDefinition<M extends Record<string, unknown> = Record<string, unknown>> {
  readonly type: string;
  readonly metadata: z.ZodType<M>;
}

const TYPE_PATTERN = /^[a-z][a-z0-9-]{0,31}$/;

export function defineSystem<M extends Record<string, unknown>>(
  system: SystemDefinition<M>,
): SystemDefinition<M> {
  if (!TYPE_PATTERN.test(system.type)) {
    throw new Error(`system type "${system.type}" must match ${TYPE_PATTERN}`);
  }
  return system;
}
