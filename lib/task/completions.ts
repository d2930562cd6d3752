import type { RunStatus, Task } from './model';

/**
 * A task's completion bookkeeping: InfluxDB's `latestCompleted`, `lastRunStatus`,
 * `lastRunError`, and Rota's `latestSuccess` / `latestFailure`.
 *
 * The task item holds a *checkpoint* of these, written only when a completion changes
 * the last status or error (or lands out of order); a run that repeats the last outcome
 * writes nothing to the task. Readers fold the runs scheduled since the checkpoint into
 * it (docs/decisions/0015-completion-bookkeeping.md).
 */
export type Completions = Pick<
  Task,
  'latestCompleted' | 'latestSuccess' | 'latestFailure' | 'lastRunStatus' | 'lastRunError'
>;

export const COMPLETION_FIELDS = [
  'latestCompleted',
  'latestSuccess',
  'latestFailure',
  'lastRunStatus',
  'lastRunError',
] as const satisfies readonly (keyof Completions)[];

/** One completed run as the bookkeeping sees it. */
export interface Completion {
  scheduledFor: string;
  finishedAt?: string | undefined;
  status: Extract<RunStatus, 'success' | 'failed' | 'canceled'>;
  error?: string | undefined;
}

/** The run fields that decide whether, and how, a run counts as a completion. */
export interface RunOutcome {
  scheduledFor: string;
  status: RunStatus;
  startedAt?: string | undefined;
  finishedAt?: string | undefined;
  error?: string | undefined;
}

/**
 * A final run that started, or one the dead-letter consumer failed. A run canceled or
 * skipped before it started never completed, so it leaves the bookkeeping alone.
 */
export function asCompletion(run: RunOutcome): Completion | undefined {
  if (run.status !== 'success' && run.status !== 'failed' && run.status !== 'canceled') return undefined;
  if (run.startedAt === undefined && run.status !== 'failed') return undefined;
  return {
    scheduledFor: run.scheduledFor,
    finishedAt: run.finishedAt,
    status: run.status,
    error: run.status === 'failed' ? run.error : undefined,
  };
}

const outcomeField = (status: Completion['status']) =>
  status === 'success' ? 'latestSuccess' : status === 'failed' ? 'latestFailure' : undefined;

const later = (a: string | undefined, b: string) => (a === undefined || b > a ? b : a);

/** `completions` after `run`: each field moves forward only; a tie goes to the run applied last. */
export function withCompletion(completions: Completions, run: Completion): Completions {
  const next: Completions = { ...completions };
  const outcome = outcomeField(run.status);
  if (outcome) next[outcome] = later(completions[outcome], run.scheduledFor);
  if (completions.latestCompleted === undefined || run.scheduledFor >= completions.latestCompleted) {
    next.latestCompleted = run.scheduledFor;
    next.lastRunStatus = run.status;
    next.lastRunError = run.error;
  }
  return next;
}

/**
 * Whether `checkpoint` already tells readers everything `run` adds: the run repeats the
 * checkpoint's status and error at or after its latestCompleted (readers fold such runs
 * in), or it is older and each field it would move is already at or past it.
 */
export function shownBy(checkpoint: Completions, run: Completion): boolean {
  const outcome = outcomeField(run.status);
  const atLeast = (field: string | undefined) => field !== undefined && field >= run.scheduledFor;
  const { latestCompleted } = checkpoint;
  if (latestCompleted !== undefined && run.scheduledFor >= latestCompleted) {
    return (
      checkpoint.lastRunStatus === run.status &&
      checkpoint.lastRunError === run.error &&
      (outcome === undefined || checkpoint[outcome] !== undefined)
    );
  }
  return atLeast(latestCompleted) && (outcome === undefined || atLeast(checkpoint[outcome]));
}

/** Completions in the order `withCompletion` must apply them: scheduled time, then finish time. */
const byTime = (a: Completion, b: Completion) =>
  a.scheduledFor === b.scheduledFor
    ? (a.finishedAt ?? '').localeCompare(b.finishedAt ?? '')
    : a.scheduledFor.localeCompare(b.scheduledFor);

/** The checkpoint with the runs scheduled since it folded in. */
export function foldCompletions(checkpoint: Completions, runs: readonly Completion[]): Completions {
  return [...runs].sort(byTime).reduce(withCompletion, pick(checkpoint));
}

export function pick(task: Completions): Completions {
  const out: Completions = {};
  for (const field of COMPLETION_FIELDS) {
    const value = task[field];
    if (value !== undefined) (out as Record<string, unknown>)[field] = value;
  }
  return out;
}

/**
 * Whether a reader walking the runs newest first has seen enough: a completion of the
 * checkpoint's own status (every older run since the checkpoint repeats it, or its
 * change would have moved the checkpoint), and every run that ties with the newest one.
 */
export function seenEnough(
  checkpoint: Completions,
  found: readonly Completion[],
  oldestSeen: string | undefined,
): boolean {
  const newest = found.reduce<string | undefined>((m, c) => later(m, c.scheduledFor), undefined);
  if (newest === undefined || oldestSeen === undefined || oldestSeen >= newest) return false;
  return checkpoint.lastRunStatus === undefined || found.some((c) => c.status === checkpoint.lastRunStatus);
}

/** A page of tasks as an API shows it: each task's runs since its checkpoint are read in parallel. */
export const withCompletionsAll = <T extends Task>(
  service: { withCompletions<U extends Task>(task: U): Promise<U> },
  tasks: readonly T[],
): Promise<T[]> => Promise.all(tasks.map((task) => service.withCompletions(task)));
