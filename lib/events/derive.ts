import type { RotaEvent, RotaEventType } from './model';

/**
 * The events one item change means, derived from the item's images alone: the same
 * function reads the DynamoDB stream on AWS and local mode's write hook. Items are plain
 * objects (unmarshalled). What the images do not carry (a run's org and task type) comes
 * from `task`, looked up by the caller.
 */
export type Item = Readonly<Record<string, unknown>>;

export interface ItemChange {
  oldImage?: Item | undefined;
  newImage?: Item | undefined;
}

/** The task a run or check status belongs to: what its events carry besides the item. */
export interface TaskInfo {
  orgID: string;
  type: string;
}

const TASK_PK = 'TASK#';
const RUN_SK = 'RUN#';
const STATUS_SK = 'STATUS#';

const RUN_EVENT: Readonly<Record<string, RotaEventType>> = {
  scheduled: 'run.scheduled',
  started: 'run.started',
  success: 'run.succeeded',
  failed: 'run.failed',
  canceled: 'run.canceled',
};

const str = (value: unknown) => (typeof value === 'string' ? value : undefined);

/** What kind of item a key is, and the task it belongs to. */
export function itemKind(key: Item): { kind: 'task' | 'run' | 'status' | 'other'; taskID: string } {
  const pk = str(key.PK) ?? '';
  const sk = str(key.SK) ?? '';
  if (!pk.startsWith(TASK_PK)) return { kind: 'other', taskID: '' };
  const taskID = pk.slice(TASK_PK.length);
  if (sk === 'TASK') return { kind: 'task', taskID };
  if (sk.startsWith(RUN_SK)) return { kind: 'run', taskID };
  if (sk.startsWith(STATUS_SK)) return { kind: 'status', taskID };
  return { kind: 'other', taskID };
}

/** Whether the change's events need the task looked up (runs and check statuses). */
export function needsTask(change: ItemChange): string | undefined {
  const image = change.newImage ?? change.oldImage;
  if (!image) return undefined;
  const { kind, taskID } = itemKind(image);
  return kind === 'run' || kind === 'status' ? taskID : undefined;
}

export function deriveEvents(change: ItemChange, task?: TaskInfo): RotaEvent[] {
  const image = change.newImage ?? change.oldImage;
  if (!image) return [];
  const { kind } = itemKind(image);
  if (kind === 'task') return taskEvents(change);
  if (kind === 'run' && task) return runEvents(change, task);
  if (kind === 'status' && task) return statusEvents(change, task);
  return [];
}

/**
 * A task's definition changes bump its `version`; the engine's bookkeeping on the same
 * item (next run, last status) does not, so it makes no task.updated.
 */
function taskEvents({ oldImage, newImage }: ItemChange): RotaEvent[] {
  const image = newImage ?? oldImage;
  if (!image) return [];
  const type: RotaEventType | undefined = !oldImage
    ? 'task.created'
    : !newImage
      ? 'task.deleted'
      : oldImage.version !== newImage.version
        ? 'task.updated'
        : undefined;
  if (!type) return [];
  const taskID = str(image.id) ?? '';
  const version = String(image.version ?? 0);
  const time = (type === 'task.deleted' ? undefined : str(image.updatedAt)) ?? new Date().toISOString();
  return [
    {
      id: `${taskID}:${type}:${version}`,
      type,
      time,
      orgID: str(image.orgID) ?? '',
      taskID,
      taskType: str(image.type) ?? '',
    },
  ];
}

/** One event per status a run enters; a delete (TTL, task deleted) is no state change. */
function runEvents({ oldImage, newImage }: ItemChange, task: TaskInfo): RotaEvent[] {
  if (!newImage) return [];
  const status = str(newImage.status);
  if (!status || status === str(oldImage?.status)) return [];
  const type = RUN_EVENT[status];
  if (!type) return [];
  const runID = str(newImage.id) ?? '';
  const attempt = typeof newImage.attempt === 'number' ? newImage.attempt : 1;
  const error = str(newImage.error);
  const time =
    (status === 'started' ? str(newImage.startedAt) : undefined) ??
    str(newImage.finishedAt) ??
    str(newImage.requestedAt) ??
    new Date().toISOString();
  return [
    {
      id: `${runID}:${status}:${attempt}`,
      type,
      time,
      orgID: task.orgID,
      taskID: itemKind(newImage).taskID,
      taskType: task.type,
      runID,
      scheduledFor: str(newImage.scheduledFor) ?? '',
      attempt,
      status,
      ...(error && (status === 'failed' || status === 'canceled') ? { error } : {}),
    },
  ];
}

/** A check status whose level differs from the one before it (the first one counts). */
function statusEvents({ oldImage, newImage }: ItemChange, task: TaskInfo): RotaEvent[] {
  if (!newImage || oldImage) return [];
  const level = str(newImage.level);
  const previousLevel = str(newImage.previousLevel);
  if (!level || level === previousLevel) return [];
  const runID = str(newImage.runID) ?? '';
  return [
    {
      id: `${runID}:check.status:${level}`,
      type: 'check.status',
      time: str(newImage.time) ?? str(newImage.recordedAt) ?? new Date().toISOString(),
      orgID: task.orgID,
      taskID: itemKind(newImage).taskID,
      taskType: task.type,
      runID,
      level,
      ...(previousLevel ? { previousLevel } : {}),
    },
  ];
}
