/**
 * A thin HTTP client of Rota's API, for the `rota` CLI. It knows the paths and the
 * `{code, message}` error shape, nothing of Rota's internals.
 */

export interface ApiErrorBody {
  code: string;
  message: string;
}

/** An answer other than 2xx, or no answer at all. Its message is what the user reads. */
export class RotaApiError extends Error {
  constructor(
    message: string,
    readonly status?: number,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'RotaApiError';
  }
}

export interface Task {
  id: string;
  orgID: string;
  name: string;
  status: string;
  every?: string;
  cron?: string;
  timezone?: string;
  nextRunAt?: string;
  lastRunStatus?: string;
  latestCompleted?: string;
  /** HTTP targets carry more (method, headers with credentials as `<redacted>`, body). */
  target?: { kind: string; url?: string; method?: string; [field: string]: unknown };
  [field: string]: unknown;
}

export interface Run {
  id: string;
  taskID: string;
  status: string;
  scheduledFor?: string;
  startedAt?: string;
  finishedAt?: string;
  attempt?: number;
  [field: string]: unknown;
}

export interface LogEvent {
  runID: string;
  time: string;
  message: string;
}

export interface ClientOptions {
  host: string;
  token: string | undefined;
  fetch?: typeof fetch;
}

type Query = Record<string, string | number | undefined>;

export function createClient(options: ClientOptions) {
  const base = options.host.replace(/\/+$/, '');
  const doFetch = options.fetch ?? fetch;

  async function request<T>(method: string, path: string, init: { query?: Query; body?: unknown } = {}) {
    if (!options.token) throw new RotaApiError('no token: pass --token TOKEN or set ROTA_TOKEN');
    const url = new URL(`${base}${path}`);
    for (const [key, value] of Object.entries(init.query ?? {}))
      if (value !== undefined) url.searchParams.set(key, String(value));
    const headers: Record<string, string> = { authorization: `Token ${options.token}` };
    if (init.body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await doFetch(url, {
        method,
        headers,
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      throw new RotaApiError(
        `cannot reach Rota at ${base}: ${cause?.code ?? cause?.message ?? String(error)}`,
      );
    }
    const text = await response.text();
    const parsed = text ? safeJson(text) : undefined;
    if (!response.ok) throw errorOf(parsed, response.status, `${method} ${path}`);
    return parsed as T;
  }

  const task = (id: string) => `/api/v2/tasks/${encodeURIComponent(id)}`;
  const run = (taskID: string, runID: string) => `${task(taskID)}/runs/${encodeURIComponent(runID)}`;

  return {
    listTasks: (query: Query) => request<{ tasks: Task[] }>('GET', '/api/v2/tasks', { query }),
    createTask: (body: unknown) => request<Task>('POST', '/api/v2/tasks', { body }),
    findTask: (id: string) => request<Task>('GET', task(id)),
    updateTask: (id: string, body: unknown) => request<Task>('PATCH', task(id), { body }),
    deleteTask: (id: string) => request<undefined>('DELETE', task(id)),
    runTask: (id: string, body: unknown = {}) => request<Run>('POST', `${task(id)}/runs`, { body }),
    listRuns: (taskID: string, query: Query) =>
      request<{ runs: Run[] }>('GET', `${task(taskID)}/runs`, { query }),
    findRun: (taskID: string, runID: string) => request<Run>('GET', run(taskID, runID)),
    retryRun: (taskID: string, runID: string) =>
      request<Run>('POST', `${run(taskID, runID)}/retry`, { body: {} }),
    cancelRun: (taskID: string, runID: string) => request<undefined>('DELETE', run(taskID, runID)),
    logs: (taskID: string, runID?: string) =>
      request<{ events: LogEvent[] }>('GET', runID ? `${run(taskID, runID)}/logs` : `${task(taskID)}/logs`),
  };
}

export type RotaClient = ReturnType<typeof createClient>;

/**
 * Rota's own errors carry a `code`; a bare `{message}` is API Gateway's own answer
 * (throttling, no route, a failed function), which reads better with its status.
 */
function errorOf(parsed: unknown, status: number, request: string): RotaApiError {
  const body = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Partial<ApiErrorBody>;
  if (typeof body.message !== 'string') return new RotaApiError(`${request} answered ${status}`, status);
  if (typeof body.code === 'string') return new RotaApiError(body.message, status, body.code);
  return new RotaApiError(`${body.message} (HTTP ${status})`, status);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
