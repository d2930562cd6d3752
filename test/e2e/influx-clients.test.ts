import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpError, InfluxDB } from '@influxdata/influxdb-client';
import { type Run, type Task, type TaskCreateRequest, TasksAPI } from '@influxdata/influxdb-client-apis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalRota, startLocal } from '../../local/start';
import { waitFor } from '../support/emulators';
import { type InfluxOperation, type InfluxResponse, influxViolations } from '../support/influx-contract';
import { type RecordedAnswer, recordingTransport } from '../support/influx-recording';

/**
 * The tasks and runs operations as InfluxDB's own client (`@influxdata/influxdb-client-apis`)
 * calls them, with the bodies the InfluxDB UI sends, against local mode. Every answer,
 * success or error, is checked against InfluxDB's published contract.
 */

/** A loopback stand-in for the deployment's InfluxDB: every query succeeds with no rows. */
async function startInfluxStandIn(): Promise<{ url: string; close: () => Promise<void> }> {
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/csv' });
      res.end('');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const FINAL = new Set(['success', 'failed', 'canceled']);

describe('InfluxDB clients against local mode, held to the InfluxDB contract', () => {
  let rota: LocalRota;
  let influx: Awaited<ReturnType<typeof startInfluxStandIn>>;
  let tasks: TasksAPI;
  const answers: RecordedAnswer[] = [];
  const token = 'influx-clients-token';
  const orgID = 'ui-org';

  beforeAll(async () => {
    influx = await startInfluxStandIn();
    rota = await startLocal({
      port: 0,
      env: {
        ROTA_BOOTSTRAP_TOKEN: token,
        ROTA_INFLUX_URL: influx.url,
        ROTA_INFLUX_TOKEN: 'deployment-token',
        ROTA_INFLUX_ORG: 'deployment-org',
      },
    });
    const plain = new InfluxDB({ url: rota.url, token });
    tasks = new TasksAPI(
      new InfluxDB({ url: rota.url, token, transport: recordingTransport(plain.transport, answers) }),
    );
  });
  afterAll(async () => {
    await rota?.stop();
    await influx?.close();
  });

  /** Runs one client call and checks the answer it got against the operation's contract. */
  async function conforming<T>(operation: InfluxOperation, call: () => Promise<T>): Promise<T> {
    const before = answers.length;
    const result = await call();
    expectConforming(operation, before);
    return result;
  }

  /** A client call that must fail with `status`; its error body is checked against the contract too. */
  async function refused(operation: InfluxOperation, status: number, call: () => Promise<unknown>) {
    const before = answers.length;
    const error = await call().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(HttpError);
    expect((error as HttpError).statusCode).toBe(status);
    return expectConforming(operation, before).body as { code: string; message: string };
  }

  function expectConforming(operation: InfluxOperation, before: number): InfluxResponse {
    expect(answers).toHaveLength(before + 1);
    const answer = answers[before] as InfluxResponse;
    expect({ operation, violations: influxViolations(operation, answer) }).toEqual({
      operation,
      violations: [],
    });
    return answer;
  }

  const GET_TASKS = { method: 'GET', path: '/tasks' } as const;
  const TASK = (method: InfluxOperation['method']) => ({ method, path: '/tasks/{taskID}' }) as const;
  const RUNS = (method: InfluxOperation['method']) => ({ method, path: '/tasks/{taskID}/runs' }) as const;
  const RUN = (method: InfluxOperation['method']) =>
    ({ method, path: '/tasks/{taskID}/runs/{runID}' }) as const;

  // What the InfluxDB UI posts from its task editor: the org and the script, nothing else.
  const uiTask = (name: string, every = '1h', extra: Record<string, unknown> = {}) =>
    ({
      orgID,
      flux: `option task = {name: "${name}", every: ${every}}\n\nfrom(bucket: "b") |> range(start: -1h)`,
      ...extra,
    }) as TaskCreateRequest;

  const create = (body: TaskCreateRequest) =>
    conforming({ method: 'POST', path: '/tasks' }, () => tasks.postTasks({ body }));

  async function finished(taskID: string, runID: string): Promise<Run> {
    return waitFor(
      async () => {
        const run = await tasks.getTasksIDRunsID({ taskID, runID });
        return FINAL.has(run.status ?? '') ? run : undefined;
      },
      { timeoutMs: 20_000, what: `run ${runID} to finish` },
    );
  }

  it('creates, reads, updates and deletes a task as the UI does, every answer conforming', async () => {
    const task = await create(uiTask('downsample'));
    expect(task).toMatchObject({ orgID, name: 'downsample', every: '1h', status: 'active' });
    expect((task as Task & { type: string }).type).toBe('basic');
    // Only links this API serves: owners, members and labels are not.
    expect(Object.keys(task.links ?? {}).sort()).toEqual(['logs', 'runs', 'self']);
    for (const link of Object.values(task.links ?? {})) {
      expect(
        (await fetch(`${rota.url}${link}`, { headers: { authorization: `Token ${token}` } })).status,
      ).toBe(200);
    }

    expect(await conforming(TASK('GET'), () => tasks.getTasksID({ taskID: task.id }))).toEqual(task);
    // The UI's status toggle, then its script editor.
    const inactive = await conforming(TASK('PATCH'), () =>
      tasks.patchTasksID({ taskID: task.id, body: { status: 'inactive' } }),
    );
    expect(inactive.status).toBe('inactive');
    const edited = await conforming(TASK('PATCH'), () =>
      tasks.patchTasksID({
        taskID: task.id,
        body: {
          flux: 'option task = {name: "downsample", every: 2h}\n\nfrom(bucket: "b")',
          description: 'two-hourly',
        },
      }),
    );
    expect(edited).toMatchObject({ every: '2h', description: 'two-hourly', status: 'inactive' });

    await conforming(TASK('DELETE'), () => tasks.deleteTasksID({ taskID: task.id }));
    const gone = await refused(TASK('GET'), 404, () => tasks.getTasksID({ taskID: task.id }));
    expect(gone).toEqual({ code: 'not found', message: 'task not found' });
  });

  it('lists with every filter the contract names, and pages with after', async () => {
    const owned = await create({ ...uiTask('owned'), ownerID: 'user-1' } as TaskCreateRequest);
    const others = [
      await create(uiTask('other-a')),
      await create(uiTask('other-b', '1h', { status: 'inactive' })),
    ];

    const all = await conforming(GET_TASKS, () => tasks.getTasks({ orgID }));
    expect(all.tasks?.map((t) => t.id)).toEqual(
      expect.arrayContaining([owned.id, ...others.map((t) => t.id)]),
    );
    expect(
      (await conforming(GET_TASKS, () => tasks.getTasks({ orgID, user: 'user-1' }))).tasks?.map((t) => t.id),
    ).toEqual([owned.id]);
    expect(
      (await conforming(GET_TASKS, () => tasks.getTasks({ orgID, name: 'other-a' }))).tasks?.map((t) => t.id),
    ).toEqual([others[0]?.id]);
    expect(
      (await conforming(GET_TASKS, () => tasks.getTasks({ orgID, status: 'inactive' }))).tasks?.map(
        (t) => t.id,
      ),
    ).toEqual([others[1]?.id]);
    // Every task of this API is InfluxDB `basic`; none is a `system` task.
    const basic = await conforming(GET_TASKS, () => tasks.getTasks({ orgID, type: 'basic' }));
    expect(basic.tasks?.map((t) => t.id)).toEqual(all.tasks?.map((t) => t.id));
    expect((await conforming(GET_TASKS, () => tasks.getTasks({ orgID, type: 'system' }))).tasks).toEqual([]);

    const page1 = await conforming(GET_TASKS, () => tasks.getTasks({ orgID, limit: 2 }));
    expect(page1.tasks).toHaveLength(2);
    const last = page1.tasks?.at(-1)?.id ?? '';
    expect(page1.links?.next).toBe(`/api/v2/tasks?orgID=${orgID}&limit=2&after=${last}`);
    const page2 = await conforming(GET_TASKS, () => tasks.getTasks({ orgID, limit: 2, after: last }));
    expect(page2.tasks?.map((t) => t.id)).not.toContain(last);
  });

  it("lists every org's tasks for the operator token without an orgID, paging the merged list", async () => {
    const mine = [
      await create(uiTask('across-a')),
      await create({ ...uiTask('across-b'), orgID: 'ui-org-2' }),
    ];
    const everyOrg = await conforming(GET_TASKS, () => tasks.getTasks({}));
    const listed = everyOrg.tasks?.map((t) => t.id) ?? [];
    expect(listed).toEqual(expect.arrayContaining(mine.map((t) => t.id)));
    expect(new Set(everyOrg.tasks?.map((t) => t.orgID))).toEqual(new Set([orgID, 'ui-org-2']));
    expect(listed).toEqual([...listed].sort());

    const seen: string[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await conforming(GET_TASKS, () =>
        tasks.getTasks({ limit: 1, ...(after ? { after } : {}) }),
      );
      seen.push(...(page.tasks?.map((t) => t.id) ?? []));
      after = page.tasks?.at(-1)?.id;
      if (!page.links?.next) break;
      expect(page.links.next).toBe(`/api/v2/tasks?limit=1&after=${after}`);
    }
    expect(seen).toEqual(listed);
  });

  it('answers bad list queries with InfluxDB codes that conform', async () => {
    for (const limit of [0, 501]) {
      const body = await refused(GET_TASKS, 422, () => tasks.getTasks({ orgID, limit }));
      expect(body).toEqual({ code: 'unprocessable entity', message: 'limit must be between 1 and 500' });
    }
    const bogus = await refused(GET_TASKS, 400, () => tasks.getTasks({ orgID, type: 'bogus' }));
    expect(bogus.code).toBe('invalid');
    expect(bogus.message).toMatch(/type: must be one of "basic", "system"/);

    const task = await create(uiTask('windows'));
    const inverted = await refused(RUNS('GET'), 422, () =>
      tasks.getTasksIDRuns({
        taskID: task.id,
        afterTime: '2026-12-02T00:00:00Z',
        beforeTime: '2026-12-01T00:00:00Z',
      }),
    );
    expect(inverted).toEqual({
      code: 'unprocessable entity',
      message: 'beforeTime must be later than afterTime',
    });
    const runsLimit = await refused(RUNS('GET'), 422, () =>
      tasks.getTasksIDRuns({ taskID: task.id, limit: 501 }),
    );
    expect(runsLimit.code).toBe('unprocessable entity');
  });

  it('runs, lists, logs, retries and cancels runs as the UI does, every answer conforming', async () => {
    const task = await create(uiTask('manual', '1h', { status: 'inactive' }));
    // The contract: `inactive` "prevents manual runs of the task".
    const refusedRun = await refused(RUNS('POST'), 400, () =>
      tasks.postTasksIDRuns({ taskID: task.id, body: {} }),
    );
    expect(refusedRun).toEqual({
      code: 'invalid',
      message: 'task is inactive: status must be active to run it manually',
    });
    expect((await tasks.getTasksIDRuns({ taskID: task.id })).runs).toEqual([]);

    await tasks.patchTasksID({ taskID: task.id, body: { status: 'active' } });
    // The UI's "Run task" sends no scheduledFor.
    const run = await conforming(RUNS('POST'), () => tasks.postTasksIDRuns({ taskID: task.id, body: {} }));
    expect(run).toMatchObject({ taskID: task.id });
    const done = await finished(task.id, run.id ?? '');
    expect(done.status).toBe('success');
    expect(
      await conforming(RUN('GET'), () => tasks.getTasksIDRunsID({ taskID: task.id, runID: run.id ?? '' })),
    ).toEqual(done);

    const listed = await conforming(RUNS('GET'), () =>
      tasks.getTasksIDRuns({
        taskID: task.id,
        afterTime: new Date(Date.now() - 3_600_000).toISOString(),
        limit: 10,
      }),
    );
    expect(listed.runs?.map((r) => r.id)).toEqual([run.id]);
    // A cursor older than afterTime leaves an empty window, not an inverted key range (a 500).
    const pastCursor = await conforming(RUNS('GET'), () =>
      tasks.getTasksIDRuns({
        taskID: task.id,
        after: run.id ?? '',
        afterTime: new Date(Date.parse(run.scheduledFor ?? '') + 60_000).toISOString(),
      }),
    );
    expect(pastCursor.runs).toEqual([]);

    const runLogs = await conforming({ method: 'GET', path: '/tasks/{taskID}/runs/{runID}/logs' }, () =>
      tasks.getTasksIDRunsIDLogs({ taskID: task.id, runID: run.id ?? '' }),
    );
    expect(runLogs.events?.length).toBeGreaterThan(0);
    expect(runLogs.events?.every((event) => event.runID === run.id)).toBe(true);
    const taskLogs = await conforming({ method: 'GET', path: '/tasks/{taskID}/logs' }, () =>
      tasks.getTasksIDLogs({ taskID: task.id }),
    );
    expect(taskLogs.events).toEqual(expect.arrayContaining(runLogs.events ?? []));

    const retried = await conforming({ method: 'POST', path: '/tasks/{taskID}/runs/{runID}/retry' }, () =>
      tasks.postTasksIDRunsIDRetry({ taskID: task.id, runID: run.id ?? '', body: {} }),
    );
    expect(retried.id).not.toBe(run.id);
    expect(retried.scheduledFor).toBe(run.scheduledFor);
    expect((await finished(task.id, retried.id ?? '')).status).toBe('success');

    // A run for an hour from now waits in the queue: cancel it there.
    const later = new Date(Date.now() + 3_600_000).toISOString();
    const queued = await conforming(RUNS('POST'), () =>
      tasks.postTasksIDRuns({ taskID: task.id, body: { scheduledFor: later } }),
    );
    await conforming(RUN('DELETE'), () =>
      tasks.deleteTasksIDRunsID({ taskID: task.id, runID: queued.id ?? '' }),
    );
    expect((await tasks.getTasksIDRunsID({ taskID: task.id, runID: queued.id ?? '' })).status).toBe(
      'canceled',
    );

    const missing = await refused(RUN('GET'), 404, () =>
      tasks.getTasksIDRunsID({ taskID: task.id, runID: 'nope' }),
    );
    expect(missing.code).toBe('not found');
  });
});
