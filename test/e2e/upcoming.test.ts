import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalRota, startLocal } from '../../local/start';
import { waitFor } from '../support/emulators';

interface UpcomingJson {
  upcoming: { scheduledFor: string; runAt: string }[];
}

interface RunJson {
  status: string;
  scheduledFor: string;
  runAt?: string;
  startedAt?: string;
}

describe('upcoming runs, jitter and time bounds in local mode', () => {
  let rota: LocalRota;
  let target: Server;
  let targetUrl: string;
  const orgID = 'upcoming-org';
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
  const create = async (name: string, extra: Record<string, unknown>) => {
    const res = await api('POST', '/tasks', {
      orgID,
      name,
      target: { kind: 'http', url: `${targetUrl}/${name}`, method: 'POST' },
      ...extra,
    });
    expect(res.status).toBe(201);
    return res.body as { id: string } & Record<string, unknown>;
  };
  const upcoming = async (id: string, query = '') => {
    const res = await api('GET', `/tasks/${id}/upcoming${query}`);
    expect(res.status).toBe(200);
    return (res.body as UpcomingJson).upcoming;
  };

  beforeAll(async () => {
    target = createServer((_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
    targetUrl = `http://127.0.0.1:${(target.address() as AddressInfo).port}`;
    rota = await startLocal({ port: 0, env: { ROTA_BOOTSTRAP_TOKEN: 'test-operator-token' } });
  });
  afterAll(async () => {
    await rota?.stop();
    await new Promise((resolve) => target?.close(resolve));
  });

  it('follows a cron in America/New_York with an offset across the spring-forward change', async () => {
    const task = await create('dst-spring', {
      cron: '30 1 * * *',
      timezone: 'America/New_York',
      offset: '10m',
      startAt: '2027-03-12T00:00:00Z',
    });
    // 01:30 EST is 06:30Z until 2027-03-14 (clocks jump 02:00 → 03:00 that night), then 01:30 EDT is 05:30Z.
    expect(await upcoming(task.id, '?limit=4')).toEqual([
      { scheduledFor: '2027-03-12T06:30:00.000Z', runAt: '2027-03-12T06:40:00.000Z' },
      { scheduledFor: '2027-03-13T06:30:00.000Z', runAt: '2027-03-13T06:40:00.000Z' },
      { scheduledFor: '2027-03-14T06:30:00.000Z', runAt: '2027-03-14T06:40:00.000Z' },
      { scheduledFor: '2027-03-15T05:30:00.000Z', runAt: '2027-03-15T05:40:00.000Z' },
    ]);
    expect(await upcoming(task.id)).toHaveLength(10);
    // The task's next run is the first of them.
    expect((await api('GET', `/tasks/${task.id}`)).body.nextRunAt).toBe('2027-03-12T06:40:00.000Z');
  });

  it('runs once on the repeated hour of the fall-back change, and stops at endAt', async () => {
    const task = await create('dst-fall', {
      cron: '30 1 * * *',
      timezone: 'America/New_York',
      offset: '-5m',
      startAt: '2027-11-06T00:00:00Z',
      endAt: '2027-11-09T00:00:00Z',
    });
    // 01:30 happens twice on 2027-11-07 (EDT, then EST); a fixed-time job runs once, on the first.
    expect(await upcoming(task.id, '?limit=100')).toEqual([
      { scheduledFor: '2027-11-06T05:30:00.000Z', runAt: '2027-11-06T05:25:00.000Z' },
      { scheduledFor: '2027-11-07T05:30:00.000Z', runAt: '2027-11-07T05:25:00.000Z' },
      { scheduledFor: '2027-11-08T06:30:00.000Z', runAt: '2027-11-08T06:25:00.000Z' },
    ]);
  });

  it('spreads cron runs within their jitter, the same on every read', async () => {
    const task = await create('jittered-cron', {
      cron: '0 * * * *',
      jitter: '1h',
      startAt: '2027-01-01T00:00:00Z',
    });
    const first = await upcoming(task.id, '?limit=50');
    expect(first).toHaveLength(50);
    for (const [i, run] of first.entries()) {
      expect(run.scheduledFor).toBe(
        new Date(Date.parse('2027-01-01T00:00:00Z') + i * 3_600_000).toISOString(),
      );
      const d = Date.parse(run.runAt) - Date.parse(run.scheduledFor);
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThan(3_600_000);
    }
    expect(new Set(first.map((r) => r.runAt.slice(14))).size).toBeGreaterThan(40);
    expect(await upcoming(task.id, '?limit=50')).toEqual(first);
  });

  it('an inactive task has no upcoming runs; a bad limit is a 400 naming limit', async () => {
    const task = await create('paused', { every: '1h', status: 'inactive' });
    expect(await upcoming(task.id)).toEqual([]);
    for (const limit of ['0', '101', 'many']) {
      const res = await api('GET', `/tasks/${task.id}/upcoming?limit=${limit}`);
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('invalid');
      expect(res.body.message).toMatch(/limit: /);
    }
    expect((await api('GET', '/tasks/0000000000000000/upcoming')).status).toBe(404);
  });

  it('round-trips jitter, startAt and endAt; null clears them; bad ones are 400s naming the field', async () => {
    const task = await create('bounded', {
      every: '1m',
      jitter: '30s',
      startAt: '2027-01-01T00:00:00Z',
      endAt: '2027-02-01T00:00:00Z',
    });
    expect(task).toMatchObject({
      jitter: '30s',
      startAt: '2027-01-01T00:00:00Z',
      endAt: '2027-02-01T00:00:00Z',
    });
    expect((await api('GET', `/tasks/${task.id}`)).body).toMatchObject({ jitter: '30s', endAt: task.endAt });

    const bad = await api('PATCH', `/tasks/${task.id}`, { endAt: '2026-12-01T00:00:00Z' });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ code: 'invalid' });
    expect(bad.body.message).toMatch(/endAt: endAt must be after startAt/);
    for (const [body, field] of [
      [{ jitter: '2m' }, 'jitter'],
      [{ startAt: 'next week' }, 'startAt'],
      [{ endAt: 17 }, 'endAt'],
    ] as const) {
      const res = await api('PATCH', `/tasks/${task.id}`, body);
      expect(res.status).toBe(400);
      expect(res.body.message).toContain(`${field}: `);
    }

    const cleared = await api('PATCH', `/tasks/${task.id}`, { jitter: null, startAt: null, endAt: null });
    expect(cleared.status).toBe(200);
    expect(cleared.body.jitter).toBeUndefined();
    expect(cleared.body.startAt).toBeUndefined();
    expect(cleared.body.endAt).toBeUndefined();
    const next = await upcoming(task.id, '?limit=1');
    expect(Date.parse(next[0]?.runAt ?? '') - Date.now()).toBeLessThanOrEqual(60_000);
  });

  it('real runs of an every-2s task start within their jitter', async () => {
    const task = await create('jitter-runs', { every: '2s', jitter: '2s' });
    const runs = await waitFor(
      async () => {
        const res = await api('GET', `/tasks/${task.id}/runs?limit=100`);
        const done = (res.body.runs as RunJson[]).filter((r) => r.status === 'success');
        return done.length >= 5 ? done : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200, what: 'five runs of the jittered task' },
    );
    await api('PATCH', `/tasks/${task.id}`, { status: 'inactive' });
    const jitters: number[] = [];
    for (const run of runs) {
      const scheduledFor = Date.parse(run.scheduledFor);
      const runAt = Date.parse(run.runAt ?? '');
      const startedAt = Date.parse(run.startedAt ?? '');
      expect(scheduledFor % 2000).toBe(0);
      expect(runAt - scheduledFor).toBeGreaterThanOrEqual(0);
      expect(runAt - scheduledFor).toBeLessThan(2000);
      // SQS delays in whole seconds, so a run arrives within about half a second of its run time.
      expect(startedAt - scheduledFor).toBeGreaterThanOrEqual(-600);
      expect(startedAt - scheduledFor).toBeLessThan(2000 + 1500);
      expect(Math.abs(startedAt - runAt)).toBeLessThan(1500);
      jitters.push(runAt - scheduledFor);
    }
    expect(new Set(jitters).size).toBeGreaterThan(1);
  });
});
