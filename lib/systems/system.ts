import type { z } from 'zod';
import type { Task } from '../task/model';

/** What a runner knows about the run it executes. */
export interface RunRef {
  taskID: string;
  runID: string;
  scheduledFor: string;
  attempt: number;
}

export interface RunContext<M> {
  task: Task & { metadata: M };
  run: RunRef;
  /** Trips on timeout, on cancel, and when the Lambda is about to run out of time. */
  signal: AbortSignal;
  /** Appends a line to the run's log (bounded by the executor). */
  log(message: string): void;
}

/** A runner resolves when the run succeeded and throws when it failed. */
export type Runner<M> = (ctx: RunContext<M>) => Promise<void>;

/**
 * A system owns one task type. Its module (lib/systems/<name>/) declares the type
 * and the zod schema of its metadata here, its HTTP translation beside it, and a
 * runner factory that only the executor imports, so API bundles never carry runner
 * code. Nothing in the core knows what a system does.
 */
export interface SystemDefinition<M extends Record<string, unknown> = Record<string, unknown>> {
  readonly type: string;
  readonly metadata: z.ZodType<M>;
}

/** A system as the executor sees it: its definition and its runner. */
export interface RunnableSystem<M extends Record<string, unknown> = Record<string, unknown>> {
  readonly definition: SystemDefinition<M>;
  readonly runner: Runner<M>;
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

/** Pairs a definition with its runner, erasing the metadata type for the registry. */
export function runnable<M extends Record<string, unknown>>(
  definition: SystemDefinition<M>,
  runner: Runner<M>,
): RunnableSystem {
  return { definition, runner } as unknown as RunnableSystem;
}

export interface RunnerRegistry {
  get(type: string): RunnableSystem | undefined;
  readonly types: readonly string[];
}

/** Indexes runnable systems by type; two systems can never claim one type. */
export function createRunnerRegistry(systems: readonly RunnableSystem[]): RunnerRegistry {
  const byType = new Map<string, RunnableSystem>();
  for (const system of systems) {
    const { type } = system.definition;
    if (byType.has(type)) throw new Error(`two systems claim the type "${type}"`);
    byType.set(type, system);
  }
  return { get: (type) => byType.get(type), types: [...byType.keys()] };
}
