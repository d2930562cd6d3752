import type { Completion } from '../task/completions';
import type { Task } from '../task/model';
import type { DUE_PROJECTION } from './keys';

/**
 * A task as the sparse due index projects it (see DUE_PROJECTION), with the schedule
 * extras its projected `offset` carries (lib/store/schedule-extras.ts).
 */
export type DueTask = Pick<Task, (typeof DUE_PROJECTION)[number] | 'jitter' | 'startAt' | 'endAt'>;

export interface ListTasksQuery {
  /** Undefined: every org's tasks of the type (the operator's view). */
  orgID?: string | undefined;
  type: string;
  after?: string | undefined;
  limit: number;
  name?: string | undefined;
  status?: string | undefined;
  ownerID?: string | undefined;
}

/** One completed run, as whoever finished it records it (lib/task/completions.ts). */
export type CompletionRecord = Completion;
