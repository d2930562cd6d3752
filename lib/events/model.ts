/**
 * Rota's outgoing events: one per task or run state change, and one when a check's level
 * changes. The same shape everywhere (the `detail` of the EventBridge event on AWS).
 * Kept free of zod and the store's entities: the stream consumer's bundle carries this.
 */
export const EVENT_SOURCE = 'rota';

/** Event type → EventBridge detail-type. */
export const DETAIL_TYPES = {
  'task.created': 'Task Created',
  'task.updated': 'Task Updated',
  'task.deleted': 'Task Deleted',
  'run.scheduled': 'Run Scheduled',
  'run.started': 'Run Started',
  'run.succeeded': 'Run Succeeded',
  'run.failed': 'Run Failed',
  'run.canceled': 'Run Canceled',
  'check.status': 'Check Status',
} as const;

export type RotaEventType = keyof typeof DETAIL_TYPES;
export const EVENT_TYPES = Object.keys(DETAIL_TYPES) as RotaEventType[];

/** The listed types, in EVENT_TYPES' order, or the error that names the unknown ones and the valid ones. */
export function eventTypesFrom(
  listed: readonly string[],
): { types: readonly RotaEventType[] } | { error: string } {
  const known: readonly string[] = EVENT_TYPES;
  const unknown = listed.filter((type) => !known.includes(type));
  if (unknown.length > 0) {
    return { error: `unknown ${unknown.join(', ')}; valid types are ${EVENT_TYPES.join(', ')}` };
  }
  return { types: EVENT_TYPES.filter((type) => listed.includes(type)) };
}

/** The detail-type of the one event Rota consumes: run this task now, as a manual run. */
export const RUN_REQUESTED = 'Run Requested';

export interface RotaEvent {
  /** Stable across redeliveries of the same change: consumers dedup on it. */
  id: string;
  type: RotaEventType;
  time: string;
  orgID: string;
  taskID: string;
  taskType: string;
  runID?: string;
  scheduledFor?: string;
  attempt?: number;
  /** A run event's Run status (scheduled, started, success, failed, canceled). */
  status?: string;
  error?: string;
  /** check.status only. */
  level?: string;
  previousLevel?: string;
}
