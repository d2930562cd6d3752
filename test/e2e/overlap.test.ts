import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalRota, startLocal } from '../../local/start';
import { waitFor } from '../support/emulators';

interface Hit {
  path: string;
  runID: string;
  at: number;
}

/** A slow loopback target: each call answers after `delay` ms (or when the caller hangs up). */
function startSlowTarget() {
  const hits: Hit[] = [];
  const inFlight = new Map<string, number>();
  const maxInFlight = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const path = url.pathname;
    hits.push({ path, runID: String(req.headers['x-rota-run-id']), at: Date.now() });
    inFlight.set(path, (inFlight.get(path) ?? 0) + 1);
    maxInFlight.set(path, Math.max(maxInFlight.get(path) ?? 0, inFlight.get(path) ?? 0));
    let done = false;
    const end = () => {
      if (done) return;
      done = true;
      inFlight.set(path, (inFlight.get(path) ?? 1) - 1);
    };
    const timer = setTimeout(
      () => {
        end();
        res.writeHead(200).end('ok');
      },
      Number(url.searchParams.get('delay') ?? 0),
    );
    req.on('close', () => {
      if (!res.writableEnded) {
        clearTimeout(timer);
        end();
      }
    });
  });
  return new Promise<{
    url: string;
    hits: Hit[];
    maxInFlight: Map<string, number>;
    close: () => Promise<void>;
  }>((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}`,
        hits,
        maxInFlight,
        close: () =>
          new Promise((r) => {
            server.closeAllConnections();
            server.close(() => r());
          }),
      });
    }),
  );
}

interface RunJson {
  id: string;
  status: string;
  scheduledFor: string;
  startedAt?: string;
  error?: string;
  log: { message: string }[];
}

describe('overlap policies and backfill in local mode, against a slow loopback target', () => {
  let rota: LocalRota;
  let target: Awaited<ReturnType<typeof startSlowTarget>>;
  const orgID = 'overlap-org';
  const headers = { authorization: 'Token test-operator-token', 'content-type': 'application/json' };

  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${rota.url}/api/v2${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
  const create = async (name: string, path: string, extra: Record<string, unknown>) => {
    const res = await api('POST', '/tasks', {
      orgID,
      name,
      target: { kind: 'http', url: `${target.url}${path}`, method: 'POST' },
      ...extra,
    });
    expect(res.status).toBe(201);
    return res.body as { id: string; concurrency?: number; overlap: string };
  };
  const runsOf = async (taskID: string): Promise<RunJson[]> =>
    (await api('GET', `/tasks/${taskID}/runs?limit=100`)).body.runs;
  const deactivate = (taskID: string) => api('PATCH', `/tasks/${taskID}`, { status: 'inactive' });
  const until = <T>(check: () => Promise<T | undefined>, what: string, timeoutMs = 30_000) =>
    waitFor(check, { timeoutMs, intervalMs: 100, what });

  beforeAll(async () => {
    target = await startSlowTarget();
    rota = await startLocal({ port: 0, workers: 10, env: { ROTA_BOOTSTRAP_TOKEN: 'test-operator-token' } });
  });
  afterAll(async () => {
    await rota?.stop();
    await target?.close();
  });

  it('skip: the target never sees two runs in flight, and the skipped instants are recorded', async () => {
    const task = await create('skipper', '/skip?delay=2500', { every: '1s', overlap: 'skip' });
    expect(task).toMatchObject({ concurrency: 1, overlap: 'skip' });
    const skipped = await until(async () => {
      const runs = await runsOf(task.id);
      const done = runs.filter((r) => r.status === 'success');
      const skips = runs.filter((r) => r.status === 'canceled');
      return done.length >= 2 && skips.length >= 2 ? skips : undefined;
    }, 'two calls and two skipped instants');
    await deactivate(task.id);
    expect(target.maxInFlight.get('/skip')).toBe(1);
    for (const run of skipped) {
      expect(run.startedAt).toBeUndefined();
      expect(run.error).toMatch(/^run skipped: 1 run was still running/);
      expect(target.hits.some((h) => h.runID === run.id)).toBe(false);
    }
    const read = (await api('GET', `/tasks/${task.id}`)).body;
    expect(read.lastRunStatus).toBe('success');
  });

  it('replace: the old run ends canceled and the new one starts', async () => {
    const task = await create('replacer', '/replace?delay=20000', { every: '2s', overlap: 'replace' });
    const [old, newer] = await until(async () => {
      const runs = (await runsOf(task.id)).reverse();
      const canceled = runs.find((r) => r.status === 'canceled' && r.startedAt !== undefined);
      const later = canceled && runs.find((r) => r.scheduledFor > canceled.scheduledFor && r.startedAt);
      return canceled && later ? [canceled, later] : undefined;
    }, 'a replaced run and its replacement');
    await deactivate(task.id);
    if (!old || !newer) throw new Error('no runs');
    // Nothing left hanging on the target when local mode stops.
    for (const run of await runsOf(task.id)) {
      if (run.status === 'started') await api('DELETE', `/tasks/${task.id}/runs/${run.id}`);
    }
    expect(old.log.map((l) => l.message).join('\n')).toMatch(/run canceled/);
    expect(target.hits.filter((h) => h.runID === old.id)).toHaveLength(1);
    expect(target.hits.filter((h) => h.runID === newer.id)).toHaveLength(1);
    expect(target.maxInFlight.get('/replace')).toBe(1);
  });

  it('queue: waiting runs start in scheduledFor order', async () => {
    const task = await create('queuer', '/queue?delay=1200', { every: '1s', concurrency: 1 });
    await until(
      async () => (target.hits.filter((h) => h.path === '/queue').length >= 4 ? true : undefined),
      'four calls',
    );
    await deactivate(task.id);
    const called = target.hits.filter((h) => h.path === '/queue').map((h) => h.runID);
    // Run IDs sort by scheduledFor.
    expect(called).toEqual([...called].sort());
    const runs = await runsOf(task.id);
    const started = runs
      .filter((r) => r.startedAt)
      .sort((a, b) => a.startedAt?.localeCompare(b.startedAt ?? '') ?? 0);
    expect(started.map((r) => r.scheduledFor)).toEqual(started.map((r) => r.scheduledFor).sort());
    expect(
      runs.some((r) => r.status === 'scheduled' || r.log.some((l) => l.message.startsWith('waiting'))),
    ).toBe(true);
    expect(target.maxInFlight.get('/queue')).toBe(1);
  });

  it('backfill: the right number of runs, oldest first, idempotently', async () => {
    const task = await create('backfiller', '/backfill?delay=200', { every: '1m', concurrency: 1 });
    const end = Math.floor(Date.now() / 60_000) * 60_000 - 120 * 60_000;
    const range = { start: new Date(end - 5 * 60_000).toISOString(), end: new Date(end).toISOString() };
    const first = await api('POST', `/tasks/${task.id}/backfill`, range);
    expect(first).toEqual({ status: 201, body: { runs: 5, created: 5 } });
    const inRange = (r: RunJson) => r.scheduledFor >= range.start && r.scheduledFor < range.end;
    await until(async () => {
      const runs = (await runsOf(task.id)).filter(inRange);
      return runs.length === 5 && runs.every((r) => r.status === 'success') ? true : undefined;
    }, 'five backfilled runs to succeed');
    const again = await api('POST', `/tasks/${task.id}/backfill`, range);
    expect(again).toEqual({ status: 201, body: { runs: 5, created: 0 } });
    const backfilled = new Set((await runsOf(task.id)).filter(inRange).map((r) => r.id));
    const called = target.hits.filter((h) => backfilled.has(h.runID)).map((h) => h.runID);
    expect(called).toHaveLength(5);
    expect(called).toEqual([...called].sort());

    // Bad requests are clear 400s naming what is wrong.
    const refused = await api('POST', `/tasks/${task.id}/backfill`, { start: range.end, end: range.start });
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({
      code: 'invalid',
      message: expect.stringMatching(/end must be after start/),
    });
    const tooMany = await api('POST', `/tasks/${task.id}/backfill`, {
      start: new Date(end - 10_001 * 60_000).toISOString(),
      end: range.end,
    });
    expect(tooMany).toMatchObject({ status: 400, body: { code: 'invalid' } });
    const future = await api('POST', `/tasks/${task.id}/backfill`, {
      start: range.start,
      end: new Date(Date.now() + 3_600_000).toISOString(),
    });
    expect(future).toMatchObject({ status: 400, body: { message: expect.stringMatching(/future/) } });
    await deactivate(task.id);
    const inactive = await api('POST', `/tasks/${task.id}/backfill`, range);
    expect(inactive).toMatchObject({ status: 400, body: { message: expect.stringMatching(/inactive/) } });
  });
});
