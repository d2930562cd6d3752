/**
 * The console's view of Rota's API: same-origin fetches with the token the user typed.
 * Every failure becomes an Error whose message is the API's own `message`.
 */

export interface Task {
  id: string;
  orgID: string;
  name: string;
  description?: string;
  status: 'active' | 'inactive';
  every?: string;
  cron?: string;
  timezone?: string;
  nextRunAt?: string;
  lastRunStatus?: string;
  lastRunError?: string;
  /** HTTP targets carry more (headers, with credentials as `<redacted>`; a body). */
  target?: { kind: string; url?: string; method?: string; [field: string]: unknown };
}

export interface Run {
  id: string;
  taskID: string;
  status: 'scheduled' | 'started' | 'success' | 'failed' | 'canceled';
  scheduledFor?: string;
  startedAt?: string;
  finishedAt?: string;
  attempt?: number;
  error?: string;
}

export interface LogEvent {
  runID: string;
  time: string;
  message: string;
}

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

async function call<T>(token: string, method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { authorization: `Token ${token}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!response.ok) {
    const message = (parsed as { message?: string } | undefined)?.message;
    throw new ApiError(message ?? `${method} ${path} answered ${response.status}`, response.status);
  }
  return parsed as T;
}

const taskPath = (id: string) => `/api/v2/tasks/${encodeURIComponent(id)}`;
const runPath = (taskID: string, runID: string) => `${taskPath(taskID)}/runs/${encodeURIComponent(runID)}`;

export function api(token: string) {
  return {
    listTasks: (org: string) =>
      call<{ tasks: Task[] }>(token, 'GET', `/api/v2/tasks?orgID=${encodeURIComponent(org)}&limit=500`),
    getTask: (id: string) => call<Task>(token, 'GET', taskPath(id)),
    createTask: (body: unknown) => call<Task>(token, 'POST', '/api/v2/tasks', body),
    updateTask: (id: string, body: unknown) => call<Task>(token, 'PATCH', taskPath(id), body),
    listRuns: (id: string) => call<{ runs: Run[] }>(token, 'GET', `${taskPath(id)}/runs?limit=50`),
    runNow: (id: string) => call<Run>(token, 'POST', `${taskPath(id)}/runs`, {}),
    retry: (taskID: string, runID: string) => call<Run>(token, 'POST', `${runPath(taskID, runID)}/retry`, {}),
    cancel: (taskID: string, runID: string) => call<undefined>(token, 'DELETE', runPath(taskID, runID)),
    runLogs: (taskID: string, runID: string) =>
      call<{ events: LogEvent[] }>(token, 'GET', `${runPath(taskID, runID)}/logs`),
  };
}

export type Api = ReturnType<typeof api>;
