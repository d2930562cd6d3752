import type { Completion } from '../task/completions';
import type { Task } from '../task/model';
import type { DUE_PROJECTION } from './keys';

/** A task as the sparse due index projects it (see DUE_PROJECTION). */
export type DueTask = Pick<Task, (typeof DUE_PROJECTION)[number]>;

export interface ListTasksQuery {
  orgID: string;
  type: string;
  after?: string | undefined;
  limit: number;
  name?: string | undefined;
  status?: string | undefined;
}

/** One completed run, as whoever finished it records it (lib/task/completions.ts). */
export type CompletionRecord = Completion;
