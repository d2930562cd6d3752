import { render } from 'preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { type Api, ApiError, api, type LogEvent, type Run, type Task } from './api';
import { RunChart } from './chart';

/** How often the open view reloads its data: Rota has no events stream. */
const POLL_MS = 2000;
const TOKEN_KEY = 'rota.token';
const ORG_KEY = 'rota.org';

type Route = { view: 'list' } | { view: 'new' } | { view: 'task'; id: string } | { view: 'edit'; id: string };

function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  if (parts[0] === 'new') return { view: 'new' };
  if (parts[0] === 'tasks' && parts[1])
    return parts[2] === 'edit' ? { view: 'edit', id: parts[1] } : { view: 'task', id: parts[1] };
  return { view: 'list' };
}

function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseRoute(location.hash));
    addEventListener('hashchange', onChange);
    return () => removeEventListener('hashchange', onChange);
  }, []);
  return route;
}

/** Loads now and every POLL_MS while mounted; `reload` forces a load after an action. */
function usePoll<T>(load: () => Promise<T>, deps: unknown[]) {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    const once = () =>
      load().then(
        (value) => {
          if (!live) return;
          setData(value);
          setError(undefined);
        },
        (e: unknown) => live && setError(messageOf(e)),
      );
    void once();
    const timer = setInterval(once, POLL_MS);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [...deps, tick]);
  return { data, error, reload: () => setTick((t) => t + 1) };
}

function messageOf(error: unknown): string {
  if (error instanceof ApiError && error.status === 401) return `${error.message} (check the token)`;
  return error instanceof Error ? error.message : String(error);
}

function schedule(task: Task): string {
  if (task.every) return `every ${task.every}`;
  if (task.cron) return `cron ${task.cron}${task.timezone ? ` (${task.timezone})` : ''}`;
  return '';
}

function when(iso: string | undefined): string {
  return iso ? new Date(iso).toLocaleString() : '—';
}

function durationMs(run: Run): number | undefined {
  if (!run.startedAt || !run.finishedAt) return undefined;
  return Date.parse(run.finishedAt) - Date.parse(run.startedAt);
}

function Status({ value }: { value: string | undefined }) {
  return <span class={`status status-${value ?? 'none'}`}>{value ?? '—'}</span>;
}

function Alert({ message }: { message: string | undefined }) {
  return message ? (
    <p role="alert" class="error">
      {message}
    </p>
  ) : null;
}

function Connect(props: { token: string; org: string; onChange(token: string, org: string): void }) {
  const [token, setToken] = useState(props.token);
  const [org, setOrg] = useState(props.org);
  return (
    <form
      class="connect"
      aria-label="Connection"
      onSubmit={(e) => {
        e.preventDefault();
        props.onChange(token.trim(), org.trim());
      }}
    >
      <label>
        Token
        <input
          type="password"
          name="token"
          autocomplete="off"
          required
          value={token}
          onInput={(e) => setToken(e.currentTarget.value)}
        />
      </label>
      <label>
        Org
        <input type="text" name="org" required value={org} onInput={(e) => setOrg(e.currentTarget.value)} />
      </label>
      <button type="submit">Show tasks</button>
    </form>
  );
}

function TaskList({ client, org }: { client: Api; org: string }) {
  const { data, error } = usePoll(() => client.listTasks(org), [client, org]);
  return (
    <section aria-labelledby="tasks-heading">
      <div class="bar">
        <h2 id="tasks-heading">Tasks in {org}</h2>
        <a class="button" href="#/new">
          New task
        </a>
      </div>
      <Alert message={error} />
      {data && data.tasks.length === 0 && <p>No tasks in this org yet.</p>}
      {data && data.tasks.length > 0 && (
        <table>
          <caption class="visually-hidden">Tasks in {org}</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Status</th>
              <th scope="col">Schedule</th>
              <th scope="col">Last run</th>
              <th scope="col">Next run</th>
            </tr>
          </thead>
          <tbody>
            {data.tasks.map((task) => (
              <tr key={task.id}>
                <th scope="row">
                  <a href={`#/tasks/${encodeURIComponent(task.id)}`}>{task.name}</a>
                </th>
                <td>
                  <Status value={task.status} />
                </td>
                <td>{schedule(task)}</td>
                <td>
                  <Status value={task.lastRunStatus} />
                </td>
                <td>{task.status === 'active' ? when(task.nextRunAt) : '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function TaskPage({ client, id }: { client: Api; id: string }) {
  const task = usePoll(() => client.getTask(id), [client, id]);
  const runs = usePoll(() => client.listRuns(id), [client, id]);
  const [selected, setSelected] = useState<string | undefined>(undefined);
  const [actionError, setActionError] = useState<string | undefined>(undefined);
  const [notice, setNotice] = useState<string | undefined>(undefined);
  const act = useCallback(
    async (what: () => Promise<unknown>, done: string) => {
      setActionError(undefined);
      try {
        await what();
        setNotice(done);
        task.reload();
        runs.reload();
      } catch (error) {
        setActionError(messageOf(error));
      }
    },
    [task, runs],
  );
  const t = task.data;
  return (
    <section aria-labelledby="task-heading">
      <p>
        <a href="#/">← All tasks</a>
      </p>
      <Alert message={task.error ?? actionError} />
      {t && (
        <>
          <div class="bar">
            <h2 id="task-heading">{t.name}</h2>
            <div class="actions">
              <button type="button" onClick={() => act(() => client.runNow(id), 'Run queued.')}>
                Run now
              </button>
              <a class="button" href={`#/tasks/${encodeURIComponent(id)}/edit`}>
                Edit
              </a>
              <button
                type="button"
                onClick={() =>
                  act(
                    () => client.updateTask(id, { status: t.status === 'active' ? 'inactive' : 'active' }),
                    t.status === 'active' ? 'Task deactivated.' : 'Task activated.',
                  )
                }
              >
                {t.status === 'active' ? 'Deactivate' : 'Activate'}
              </button>
            </div>
          </div>
          <p class="visually-hidden" role="status">
            {notice}
          </p>
          <dl class="facts">
            <dt>Status</dt>
            <dd>
              <Status value={t.status} />
            </dd>
            <dt>Schedule</dt>
            <dd>{schedule(t)}</dd>
            <dt>Next run</dt>
            <dd>{t.status === 'active' ? when(t.nextRunAt) : '—'}</dd>
            <dt>Last run</dt>
            <dd>
              <Status value={t.lastRunStatus} />
              {t.lastRunError ? ` ${t.lastRunError}` : ''}
            </dd>
            <dt>Target</dt>
            <dd>{t.target?.url ? `${t.target.method ?? 'POST'} ${t.target.url}` : t.target?.kind}</dd>
          </dl>
        </>
      )}
      <h3 id="chart-heading">Recent runs</h3>
      {runs.data && <RunChart runs={runs.data.runs} durationOf={durationMs} />}
      <Alert message={runs.error} />
      {runs.data && runs.data.runs.length > 0 && (
        <table aria-labelledby="chart-heading">
          <thead>
            <tr>
              <th scope="col">Run</th>
              <th scope="col">Status</th>
              <th scope="col">Scheduled for</th>
              <th scope="col">Duration</th>
              <th scope="col">Attempt</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {runs.data.runs.map((run) => {
              const ms = durationMs(run);
              const open = run.status === 'scheduled' || run.status === 'started';
              return (
                <tr key={run.id} aria-selected={selected === run.id}>
                  <th scope="row">
                    <code>{run.id}</code>
                  </th>
                  <td>
                    <Status value={run.status} />
                  </td>
                  <td>{when(run.scheduledFor)}</td>
                  <td>{ms === undefined ? '—' : `${ms} ms`}</td>
                  <td>{run.attempt ?? ''}</td>
                  <td class="actions">
                    <button
                      type="button"
                      aria-pressed={selected === run.id}
                      onClick={() => setSelected(run.id)}
                    >
                      Logs
                    </button>
                    {open ? (
                      <button
                        type="button"
                        onClick={() => act(() => client.cancel(id, run.id), 'Run canceled.')}
                      >
                        Cancel
                      </button>
                    ) : (
                      <button
                        type="button"
                        onClick={() => act(() => client.retry(id, run.id), 'Retry queued.')}
                      >
                        Retry
                      </button>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {selected && <RunLogs client={client} taskID={id} runID={selected} />}
    </section>
  );
}

function RunLogs({ client, taskID, runID }: { client: Api; taskID: string; runID: string }) {
  const { data, error } = usePoll(() => client.runLogs(taskID, runID), [client, taskID, runID]);
  return (
    <section aria-labelledby="logs-heading">
      <h3 id="logs-heading">Logs of run {runID}</h3>
      <Alert message={error} />
      <ol class="logs" aria-live="polite">
        {(data?.events ?? []).map((event: LogEvent) => (
          <li key={`${event.time}${event.message}`}>
            <time dateTime={event.time}>{new Date(event.time).toLocaleTimeString()}</time> {event.message}
          </li>
        ))}
      </ol>
    </section>
  );
}

interface FormState {
  name: string;
  description: string;
  kind: 'every' | 'cron';
  every: string;
  cron: string;
  timezone: string;
  url: string;
  method: string;
  status: 'active' | 'inactive';
  /** The task's target as loaded, when editing. */
  stored?: Task['target'];
}

function formOf(task: Task | undefined): FormState {
  return {
    name: task?.name ?? '',
    description: task?.description ?? '',
    kind: task?.cron ? 'cron' : 'every',
    every: task?.every ?? '1m',
    cron: task?.cron ?? '',
    timezone: task?.timezone ?? '',
    url: task?.target?.url ?? '',
    method: task?.target?.method ?? 'POST',
    status: task?.status ?? 'active',
    stored: task?.target,
  };
}

/**
 * The target to send. Creating: a new HTTP target. Editing: nothing unless the URL or
 * the method changed, and then over the stored target, so its headers and body stay
 * (a credential comes back `<redacted>`, which keeps the stored value while the URL
 * keeps its origin). The form edits HTTP targets only; another kind stays as it is.
 */
function targetPatch(form: FormState): { target?: Record<string, unknown> } {
  const { stored } = form;
  if (!stored) return { target: { kind: 'http', url: form.url, method: form.method } };
  if (stored.kind !== 'http') return {};
  if (stored.url === form.url && (stored.method ?? 'POST') === form.method) return {};
  return { target: { ...stored, url: form.url, method: form.method } };
}

function TaskForm({ client, org, id }: { client: Api; org: string; id?: string }) {
  const [form, setForm] = useState<FormState | undefined>(id ? undefined : formOf(undefined));
  const [error, setError] = useState<string | undefined>(undefined);
  useEffect(() => {
    if (id)
      client.getTask(id).then(
        (task) => setForm(formOf(task)),
        (e: unknown) => setError(messageOf(e)),
      );
  }, [client, id]);
  if (!form) return <Alert message={error} />;
  const set = (field: keyof FormState) => (e: { currentTarget: { value: string } }) =>
    setForm({ ...form, [field]: e.currentTarget.value });
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    const body = {
      name: form.name,
      description: form.description,
      status: form.status,
      ...(form.kind === 'every' ? { every: form.every } : { cron: form.cron }),
      ...(form.kind === 'cron' && form.timezone ? { timezone: form.timezone } : {}),
      ...targetPatch(form),
    };
    try {
      const task = id ? await client.updateTask(id, body) : await client.createTask({ ...body, orgID: org });
      location.hash = `#/tasks/${encodeURIComponent(task.id)}`;
    } catch (err) {
      setError(messageOf(err));
    }
  };
  return (
    <section aria-labelledby="form-heading">
      <p>
        <a href={id ? `#/tasks/${encodeURIComponent(id)}` : '#/'}>← Back</a>
      </p>
      <h2 id="form-heading">{id ? `Edit ${form.name}` : `New task in ${org}`}</h2>
      <form class="task-form" onSubmit={submit}>
        <label>
          Name
          <input name="name" required value={form.name} onInput={set('name')} />
        </label>
        <label>
          Description
          <input name="description" value={form.description} onInput={set('description')} />
        </label>
        <fieldset>
          <legend>Schedule</legend>
          <label class="inline">
            <input
              type="radio"
              name="kind"
              value="every"
              checked={form.kind === 'every'}
              onChange={() => setForm({ ...form, kind: 'every' })}
            />
            Every
          </label>
          <label class="inline">
            <input
              type="radio"
              name="kind"
              value="cron"
              checked={form.kind === 'cron'}
              onChange={() => setForm({ ...form, kind: 'cron' })}
            />
            Cron
          </label>
          {form.kind === 'every' ? (
            <label>
              Interval
              <input
                name="every"
                required
                placeholder="10s, 5m, 1h30m"
                value={form.every}
                onInput={set('every')}
              />
            </label>
          ) : (
            <>
              <label>
                Cron expression
                <input
                  name="cron"
                  required
                  placeholder="*/5 * * * *"
                  value={form.cron}
                  onInput={set('cron')}
                />
              </label>
              <label>
                Time zone
                <input name="timezone" placeholder="UTC" value={form.timezone} onInput={set('timezone')} />
              </label>
            </>
          )}
        </fieldset>
        {form.stored && form.stored.kind !== 'http' ? (
          <p>
            Target: {form.stored.kind}, kept as it is (change it with the API or{' '}
            <code>rota task update --file</code>).
          </p>
        ) : (
          <>
            <label>
              Target URL
              <input name="url" type="url" required value={form.url} onInput={set('url')} />
            </label>
            <label>
              Method
              <select name="method" value={form.method} onChange={set('method')}>
                {['POST', 'GET', 'PUT', 'PATCH', 'DELETE'].map((m) => (
                  <option key={m}>{m}</option>
                ))}
              </select>
            </label>
          </>
        )}
        <label>
          Status
          <select name="status" value={form.status} onChange={set('status')}>
            <option value="active">active</option>
            <option value="inactive">inactive</option>
          </select>
        </label>
        <Alert message={error} />
        <button type="submit">{id ? 'Save task' : 'Create task'}</button>
      </form>
    </section>
  );
}

function App() {
  // The token lives in this tab's sessionStorage only: closing the tab forgets it.
  const [token, setToken] = useState(() => sessionStorage.getItem(TOKEN_KEY) ?? '');
  const [org, setOrg] = useState(() => sessionStorage.getItem(ORG_KEY) ?? '');
  const route = useRoute();
  const client = useMemoApi(token);
  const connected = token !== '' && org !== '';
  return (
    <>
      <header>
        <h1>Rota</h1>
        <Connect
          token={token}
          org={org}
          onChange={(t, o) => {
            sessionStorage.setItem(TOKEN_KEY, t);
            sessionStorage.setItem(ORG_KEY, o);
            setToken(t);
            setOrg(o);
            if (route.view !== 'list') location.hash = '#/';
          }}
        />
      </header>
      <main>
        {!connected && <p>Enter a token and the org whose tasks you want to see.</p>}
        {connected && route.view === 'list' && <TaskList client={client} org={org} />}
        {connected && route.view === 'task' && <TaskPage client={client} id={route.id} />}
        {connected && route.view === 'new' && <TaskForm client={client} org={org} />}
        {connected && route.view === 'edit' && <TaskForm client={client} org={org} id={route.id} />}
      </main>
    </>
  );
}

function useMemoApi(token: string): Api {
  const [state, setState] = useState(() => ({ token, client: api(token) }));
  if (state.token !== token) {
    const next = { token, client: api(token) };
    setState(next);
    return next.client;
  }
  return state.client;
}

const root = document.getElementById('app');
if (root) render(<App />, root);
