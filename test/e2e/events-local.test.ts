import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RotaEvent } from '../../lib/events/model';
import { type LocalRota, startLocal } from '../../local/start';
import { waitFor } from '../support/emulators';

/**
 * Local mode's events: the write hook in front of dynalite and the stream consumer's
 * derivation give every task and run change as one event, with every field.
 */
describe('events in local mode', () => {
  let rota: LocalRota;
  let target: Server;
  let targetUrl: string;
  const seen: RotaEvent[] = [];
  let unsubscribe: () => void;
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
  const create = async (orgID: string, name: string, path: string, extra: Record<string, unknown> = {}) => {
    const res = await api('POST', '/tasks', {
      orgID,
      name,
      every: '1s',
      target: { kind: 'http', url: `${targetUrl}${path}`, headers: { authorization: 'Bearer s3cret' } },
      ...extra,
    });
    expect(res.status).toBe(201);
    return res.body as { id: string };
  };
  const eventsOf = (taskID: string) => seen.filter((e) => e.taskID === taskID);
  const until = <T>(check: () => T | undefined, what: string) =>
    waitFor(async () => check(), { timeoutMs: 30_000, intervalMs: 100, what });

  beforeAll(async () => {
    target = createServer((req, res) => {
      // `/slow` holds a run long enough for a second one to wait behind it.
      const delay = req.url?.startsWith('/slow') ? 4_000 : 0;
      setTimeout(() => res.writeHead(req.url?.startsWith('/fail') ? 500 : 200).end('ok'), delay);
    });
    await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', () => resolve()));
    targetUrl = `http://127.0.0.1:${(target.address() as AddressInfo).port}`;
    rota = await startLocal({ port: 0, workers: 4, env: { ROTA_BOOTSTRAP_TOKEN: 'test-operator-token' } });
    unsubscribe = rota.events.subscribe((event) => seen.push(event));
  });
  afterAll(async () => {
    unsubscribe?.();
    await rota?.stop();
    await new Promise<void>((resolve) => {
      target?.closeAllConnections();
      target?.close(() => resolve());
    });
  });

  it('gives task.created, then run.started and run.succeeded for one run of an every-1s task', async () => {
    const task = await create('org-a', 'ok', '/ok');
    const succeeded = await until(
      () => eventsOf(task.id).find((e) => e.type === 'run.succeeded'),
      'a run.succeeded event',
    );
    await api('PATCH', `/tasks/${task.id}`, { status: 'inactive' });
    const created = eventsOf(task.id).find((e) => e.type === 'task.created');
    expect(created).toEqual({
      id: `${task.id}:task.created:1`,
      type: 'task.created',
      time: expect.any(String),
      orgID: 'org-a',
      taskID: task.id,
      taskType: 'task',
    });
    const ofRun = eventsOf(task.id).filter((e) => e.runID === succeeded.runID);
    expect(ofRun.map((e) => e.type)).toEqual(['run.started', 'run.succeeded']);
    expect(succeeded).toEqual({
      id: `${succeeded.runID}:success:1`,
      type: 'run.succeeded',
      time: expect.any(String),
      orgID: 'org-a',
      taskID: task.id,
      taskType: 'task',
      runID: expect.any(String),
      scheduledFor: expect.any(String),
      attempt: 1,
      status: 'success',
    });
    expect(JSON.stringify(seen)).not.toContain('s3cret');
    await until(() => eventsOf(task.id).find((e) => e.type === 'task.updated'), 'task.updated on deactivate');
  });

  it('gives run.failed with its error for a failing target', async () => {
    const task = await create('org-a', 'fails', '/fail');
    const failed = await until(
      () => eventsOf(task.id).find((e) => e.type === 'run.failed'),
      'a run.failed event',
    );
    await api('PATCH', `/tasks/${task.id}`, { status: 'inactive' });
    expect(failed).toMatchObject({ status: 'failed', orgID: 'org-a', taskType: 'task', attempt: 1 });
    expect(failed.error).toMatch(/500/);
  });

  it('gives run.scheduled then run.canceled for a cancelled manual run, and task.deleted', async () => {
    // Active (an inactive task takes no manual run), due only on 29 February, one run at a
    // time: a slow first run holds the slot, so the second waits, queued, to be cancelled.
    const task = await create('org-b', 'manual', '/slow', {
      every: undefined,
      cron: '0 0 29 2 *',
      concurrency: 1,
    });
    const blocker = (await api('POST', `/tasks/${task.id}/runs`, {})).body as { id: string };
    await until(
      () => eventsOf(task.id).find((e) => e.type === 'run.started' && e.runID === blocker.id),
      'the first run to start',
    );
    const later = new Date(Date.now() + 3_600_000).toISOString();
    const run = (await api('POST', `/tasks/${task.id}/runs`, { scheduledFor: later })).body as { id: string };
    expect((await api('DELETE', `/tasks/${task.id}/runs/${run.id}`)).status).toBe(204);
    const canceled = await until(
      () => eventsOf(task.id).find((e) => e.type === 'run.canceled' && e.runID === run.id),
      'a run.canceled event',
    );
    expect(
      eventsOf(task.id)
        .filter((e) => e.runID === run.id)
        .map((e) => e.type),
    ).toEqual(['run.scheduled', 'run.canceled']);
    expect(canceled).toMatchObject({ orgID: 'org-b', status: 'canceled', scheduledFor: later });
    expect((await api('DELETE', `/tasks/${task.id}`)).status).toBe(204);
    await until(() => eventsOf(task.id).find((e) => e.type === 'task.deleted'), 'a task.deleted event');
  });
});
