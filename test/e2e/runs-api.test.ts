import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type HttpError, InfluxDB } from '@influxdata/influxdb-client';
import { type Run, type TaskCreateRequest, TasksAPI } from '@influxdata/influxdb-client-apis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalRota, startLocal } from '../../local/start';
import { waitFor } from '../support/emulators';

/** A loopback target that records each call and can be told to be slow. */
function startTarget() {
  const hits: { path: string; at: number; runID: string }[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    hits.push({ path: url.pathname, at: Date.now(), runID: String(req.headers['x-rota-run-id']) });
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    const delay = Number(url.searchParams.get('delay') ?? 0);
    const status = Number(url.searchParams.get('status') ?? 200);
    const timer = setTimeout(() => {
      inFlight--;
      res.writeHead(status).end(`answered ${status}`);
    }, delay);
    req.on('close', () => {
      if (!res.writableEnded) {
        clearTimeout(timer);
        inFlight--;
      }
    });
  });
  return new Promise<{
    url: string;
    hits: typeof hits;
    maxInFlight: () => number;
    close: () => Promise<void>;
  }>((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}`,
        hits,
        maxInFlight: () => maxInFlight,
        close: () =>
          new Promise((r) => {
            server.closeAllConnections();
            server.close(() => r());
          }),
      });
    }),
  );
}

describe('runs API in local mode', () => {
  let rota: LocalRota;
  let tasks: TasksAPI;
  let target: Awaited<ReturnType<typeof startTarget>>;
  const orgID = 'runs-org';

  const create = (name: string, extra: Record<string, unknown>, path = '/hook') =>
    tasks.postTasks({
      body: {
        orgID,
        name,
        target: { kind: 'http', url: `${target.url}${path}`, method: 'POST' },
        ...extra,
      } as unknown as TaskCreateRequest,
    });

  const runOf = (taskID: string, runID: string) => tasks.getTasksIDRunsID({ taskID, runID });
  const until = <T>(check: () => Promise<T | undefined>, what: string, timeoutMs = 20_000) =>
    waitFor(check, { timeoutMs, intervalMs: 100, what });

  beforeAll(async () => {
    target = await startTarget();
    rota = await startLocal({ port: 0, workers: 10, env: { ROTA_BOOTSTRAP_TOKEN: 'test-operator-token' } });
    tasks = new TasksAPI(new InfluxDB({ url: rota.url, token: 'test-operator-token' }));
  });
  afterAll(async () => {
    await rota?.stop();
    await target?.close();
  });

  it('runs an every: 1s task about once a second, on time, and lists its runs newest first', async () => {
    const task = await create('each-second', { every: '1s' }, '/every');
    const started = Date.now();
    await until(
      async () => (target.hits.filter((h) => h.path === '/every').length >= 6 ? true : undefined),
      '6 calls',
    );
    const elapsed = (Date.now() - started) / 1000;
    const calls = target.hits.filter((h) => h.path === '/every').length;
    expect(calls / elapsed).toBeGreaterThan(0.6);
    expect(calls / elapsed).toBeLessThan(1.5);

    const { runs = [] } = await tasks.getTasksIDRuns({ taskID: task.id, limit: 100 });
    const finished = runs.filter((r) => r.status === 'success');
    expect(finished.length).toBeGreaterThanOrEqual(5);
    const times = runs.map((r) => r.scheduledFor ?? '');
    expect([...times].sort().reverse()).toEqual(times);

    // Each call carried its run's identity, and the run's log shows the HTTP exchange.
    const last = finished[0] as Run;
    expect(target.hits.some((h) => h.runID === last.id)).toBe(true);
    const logs = await tasks.getTasksIDRunsIDLogs({ taskID: task.id, runID: last.id ?? '' });
    expect(logs.events?.map((e) => e.message).join('\n')).toMatch(/HTTP POST .*\/every -> 200/);
    expect(logs.events?.every((e) => e.runID === last.id)).toBe(true);
    const taskLogs = await tasks.getTasksIDLogs({ taskID: task.id });
    expect(taskLogs.events?.length).toBeGreaterThan(logs.events?.length ?? 0);

    const fetched = await tasks.getTasksID({ taskID: task.id });
    expect(fetched.lastRunStatus).toBe('success');
    expect(Date.parse(fetched.latestCompleted ?? '')).toBeGreaterThan(started - 1000);
    await tasks.patchTasksID({ taskID: task.id, body: { status: 'inactive' } });
  });

  it('pages runs with limit, after, afterTime and beforeTime', async () => {
    const task = await create('paged', { every: '1h' }, '/paged');
    const made: string[] = [];
    const base = Date.now() + 3_600_000;
    for (let i = 0; i < 4; i++) {
      const run = await tasks.postTasksIDRuns({
        taskID: task.id,
        body: { scheduledFor: new Date(base + i * 60_000).toISOString() },
      });
      made.push(run.id ?? '');
    }
    const page1 = await tasks.getTasksIDRuns({ taskID: task.id, limit: 2 });
    expect(page1.runs?.map((r) => r.id)).toEqual([made[3], made[2]]);
    const page2 = await tasks.getTasksIDRuns({ taskID: task.id, limit: 2, after: made[2] ?? '' });
    expect(page2.runs?.map((r) => r.id)).toEqual([made[1], made[0]]);
    const window = await tasks.getTasksIDRuns({
      taskID: task.id,
      afterTime: new Date(base + 30_000).toISOString(),
      beforeTime: new Date(base + 150_000).toISOString(),
    });
    expect(window.runs?.map((r) => r.id)).toEqual([made[2], made[1]]);
    for (const id of made) await tasks.deleteTasksIDRunsID({ taskID: task.id, runID: id });
  });

  it('runs a manual run at once, and retries it as a new run', async () => {
    const task = await create('manual', { every: '1h' }, '/manual');
    const run = await tasks.postTasksIDRuns({ taskID: task.id, body: {} });
    expect(run.status).toBe('scheduled');
    expect(run.requestedAt).toBeDefined();
    const done = await until(async () => {
      const r = await runOf(task.id, run.id ?? '');
      return r.status === 'success' ? r : undefined;
    }, 'the manual run');
    expect(Date.parse(done.startedAt ?? '') - Date.parse(done.requestedAt ?? '')).toBeLessThan(5000);

    const retry = await tasks.postTasksIDRunsIDRetry({ taskID: task.id, runID: run.id ?? '', body: {} });
    expect(retry.id).not.toBe(run.id);
    expect(retry.scheduledFor).toBe(run.scheduledFor);
    expect((retry as Run & { retryOf?: string; attempt?: number }).retryOf).toBe(run.id);
    await until(
      async () => ((await runOf(task.id, retry.id ?? '')).status === 'success' ? true : undefined),
      'the retry',
    );
    expect(target.hits.filter((h) => h.path === '/manual')).toHaveLength(2);
  });

  it('cancels a queued run and a running run: both end canceled', async () => {
    const task = await create('cancelable', { every: '1h' }, '/slow?delay=20000');
    const laterAt = Date.now() + 3000;
    const later = await tasks.postTasksIDRuns({
      taskID: task.id,
      body: { scheduledFor: new Date(laterAt).toISOString() },
    });
    await tasks.deleteTasksIDRunsID({ taskID: task.id, runID: later.id ?? '' });
    expect((await runOf(task.id, later.id ?? '')).status).toBe('canceled');
    // A run due a second after the canceled one: once it reached the target, the executors
    // have handled deliveries past the canceled run's time, however slow the machine.
    const sentinelTask = await create('sentinel', { every: '1h' }, '/sentinel');
    const sentinel = await tasks.postTasksIDRuns({
      taskID: sentinelTask.id,
      body: { scheduledFor: new Date(laterAt + 1000).toISOString() },
    });

    const now = await tasks.postTasksIDRuns({ taskID: task.id, body: {} });
    await until(
      async () => ((await runOf(task.id, now.id ?? '')).status === 'started' ? true : undefined),
      'the run to start',
    );
    await tasks.deleteTasksIDRunsID({ taskID: task.id, runID: now.id ?? '' });
    const canceled = await until(
      async () => {
        const r = await runOf(task.id, now.id ?? '');
        return r.status === 'canceled' ? r : undefined;
      },
      'the running run to be canceled',
      10_000,
    );
    expect(canceled.finishedAt).toBeDefined();
    // The queued run never reached the target, even after its time passed.
    await until(
      async () => (target.hits.some((h) => h.runID === sentinel.id) ? true : undefined),
      'the run due after the canceled one',
    );
    expect(target.hits.filter((h) => h.runID === later.id)).toHaveLength(0);
  });

  it('fails a run on a non-2xx answer and logs the status', async () => {
    const task = await create('failing', { every: '1h' }, '/broken?status=503');
    const run = await tasks.postTasksIDRuns({ taskID: task.id, body: {} });
    const failed = await until(async () => {
      const r = await runOf(task.id, run.id ?? '');
      return r.status === 'failed' ? r : undefined;
    }, 'the failing run');
    expect((failed as Run & { error?: string }).error).toBe('target responded 503');
    const logs = await tasks.getTasksIDRunsIDLogs({ taskID: task.id, runID: run.id ?? '' });
    expect(logs.events?.map((e) => e.message).join('\n')).toMatch(/-> 503[\s\S]*answered 503/);
    expect((await tasks.getTasksID({ taskID: task.id })).lastRunError).toBe('target responded 503');
  });

  it('shows latestCompleted, lastRunStatus and lastRunError after a failure, a recovery and a repeat, in get and list', async () => {
    const task = await create('flip', { every: '1h' }, '/flip?status=503');
    const runToEnd = async (status: string) => {
      const run = await tasks.postTasksIDRuns({ taskID: task.id, body: {} });
      return until(async () => {
        const r = await runOf(task.id, run.id ?? '');
        return r.status === status ? r : undefined;
      }, `a ${status} run`);
    };
    const inList = async () =>
      (await tasks.getTasks({ orgID, limit: 100 })).tasks?.find((t) => t.id === task.id);

    const failed = await runToEnd('failed');
    const afterFailure = await tasks.getTasksID({ taskID: task.id });
    expect(afterFailure).toMatchObject({
      lastRunStatus: 'failed',
      lastRunError: 'target responded 503',
      latestCompleted: failed.scheduledFor,
    });

    await tasks.patchTasksID({
      taskID: task.id,
      body: { target: { kind: 'http', url: `${target.url}/flip`, method: 'POST' } } as never,
    });
    const recovered = await runToEnd('success');
    for (const shown of [await tasks.getTasksID({ taskID: task.id }), await inList()]) {
      expect(shown).toMatchObject({ lastRunStatus: 'success', latestCompleted: recovered.scheduledFor });
      expect(shown?.lastRunError).toBeUndefined();
    }

    // A repeated success writes nothing to the task; get and list still show it.
    const repeated = await runToEnd('success');
    expect(repeated.scheduledFor).not.toBe(recovered.scheduledFor);
    for (const shown of [await tasks.getTasksID({ taskID: task.id }), await inList()]) {
      expect(shown).toMatchObject({ lastRunStatus: 'success', latestCompleted: repeated.scheduledFor });
    }
  });

  it('lets runs of an unlimited task overlap, so one slow run holds up nothing', async () => {
    const task = await create('overlapping', { every: '1s' }, '/overlap?delay=2500');
    await until(
      async () => (target.hits.filter((h) => h.path === '/overlap').length >= 4 ? true : undefined),
      'overlapping calls',
    );
    await tasks.patchTasksID({ taskID: task.id, body: { status: 'inactive' } });
    expect(target.maxInFlight()).toBeGreaterThanOrEqual(2);
  });

  it('answers bad run requests with {code, message}', async () => {
    const task = await create('bad-input', { every: '1h' });
    const tryCall = (p: Promise<unknown>) =>
      p.then(
        () => undefined,
        (e: unknown) => e as HttpError,
      );
    // InfluxDB's code for a limit past 500: unprocessable entity.
    const tooMany = await tryCall(tasks.getTasksIDRuns({ taskID: task.id, limit: 501 }));
    expect(tooMany?.statusCode).toBe(422);
    const unknown = await tryCall(runOf(task.id, 'no-such-run'));
    expect(unknown?.statusCode).toBe(404);
    expect(JSON.parse(unknown?.body ?? '{}')).toEqual({ code: 'not found', message: 'run not found' });
    const badTime = await tryCall(
      tasks.postTasksIDRuns({ taskID: task.id, body: { scheduledFor: 'tomorrow' } }),
    );
    expect(badTime?.statusCode).toBe(400);
    const otherTask = await tryCall(tasks.getTasksIDRuns({ taskID: 'missing-task' }));
    expect(otherTask?.statusCode).toBe(404);
  });
});
