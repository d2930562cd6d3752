import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_TYPES, type RotaEvent } from '../../lib/events/model';
import { type LocalRota, startLocal } from '../../local/start';
import { apiClient, createToken, TEST_OPERATOR_TOKEN } from '../support/auth';
import { waitFor } from '../support/emulators';
import { openSse, type SseClient } from '../support/sse';

/**
 * `GET /api/v2/events` in local mode, read by a hand-written SSE client: every field of
 * task and run events, org and permission isolation, the filters, Last-Event-ID, the
 * heartbeat, and streams that end without leaving a listener behind.
 */
describe('GET /api/v2/events (Server-Sent Events) in local mode', () => {
  let rota: LocalRota;
  let target: Server;
  let targetUrl: string;
  let api: ReturnType<typeof apiClient>;
  const tokens = { a: '', b: '', aChecksOnly: '' };
  const clients: SseClient[] = [];

  const watch = async (token: string | undefined, query = '', headers: Record<string, string> = {}) => {
    const client = await openSse(`${rota.url}/api/v2/events${query}`, {
      ...(token === undefined ? {} : { authorization: `Token ${token}` }),
      ...headers,
    });
    clients.push(client);
    return client;
  };
  const eventsOf = (client: SseClient) => client.events<RotaEvent>();
  const until = <T>(check: () => T | undefined, what: string) =>
    waitFor(async () => check(), { timeoutMs: 30_000, intervalMs: 50, what });
  const seenBy = (client: SseClient, match: (e: RotaEvent) => boolean, what: string) =>
    until(() => eventsOf(client).find(match), what);
  const create = async (token: string, orgID: string, name: string, path: string, extra = {}) => {
    const res = await api(token, 'POST', '/api/v2/tasks', {
      orgID,
      name,
      every: '1s',
      target: { kind: 'http', url: `${targetUrl}${path}`, headers: { authorization: 'Bearer s3cret' } },
      ...extra,
    });
    expect(res.status, res.text).toBe(201);
    return res.body as { id: string };
  };
  const deactivate = (token: string, taskID: string) =>
    api(token, 'PATCH', `/api/v2/tasks/${taskID}`, { status: 'inactive' });

  beforeAll(async () => {
    target = createServer((req, res) => {
      // `/slow` holds a run long enough for a second one to wait behind it.
      const delay = req.url?.startsWith('/slow') ? 4_000 : 0;
      setTimeout(() => res.writeHead(req.url?.startsWith('/fail') ? 500 : 200).end('ok'), delay);
    });
    await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', () => resolve()));
    targetUrl = `http://127.0.0.1:${(target.address() as AddressInfo).port}`;
    rota = await startLocal({
      port: 0,
      workers: 4,
      eventHeartbeatMs: 300,
      env: { ROTA_BOOTSTRAP_TOKEN: TEST_OPERATOR_TOKEN },
    });
    api = apiClient(rota.url);
    const rw = ['read', 'write'] as ('read' | 'write')[];
    tokens.a = (await createToken(rota.url, TEST_OPERATOR_TOKEN, 'org-a', { tasks: rw })).token;
    tokens.b = (await createToken(rota.url, TEST_OPERATOR_TOKEN, 'org-b', { tasks: rw })).token;
    tokens.aChecksOnly = (
      await createToken(rota.url, TEST_OPERATOR_TOKEN, 'org-a', { checks: ['read'] })
    ).token;
  }, 60_000);
  afterAll(async () => {
    for (const client of clients) client.close();
    await rota?.stop();
    await new Promise<void>((resolve) => {
      target?.closeAllConnections();
      target?.close(() => resolve());
    });
  });

  it('streams task.created, then run.started and run.succeeded of one run, with every field and an id line', async () => {
    const stream = await watch(tokens.a);
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const task = await create(tokens.a, 'org-a', 'ok', '/ok');
    const succeeded = await seenBy(
      stream,
      (e) => e.taskID === task.id && e.type === 'run.succeeded',
      'run.succeeded',
    );
    await deactivate(tokens.a, task.id);

    const created = eventsOf(stream).find((e) => e.taskID === task.id && e.type === 'task.created');
    expect(created).toEqual({
      id: `${task.id}:task.created:1`,
      type: 'task.created',
      time: expect.any(String),
      orgID: 'org-a',
      taskID: task.id,
      taskType: 'task',
    });
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
    const ofRun = eventsOf(stream).filter((e) => e.runID === succeeded.runID);
    expect(ofRun.map((e) => e.type)).toEqual(['run.started', 'run.succeeded']);
    expect(ofRun[0]).toEqual({
      ...succeeded,
      id: `${succeeded.runID}:started:1`,
      type: 'run.started',
      status: 'started',
      time: expect.any(String),
    });
    // Every message's id line is its event's id: what Last-Event-ID resumes after.
    for (const message of stream.messages)
      expect(message.id).toBe((JSON.parse(message.data) as RotaEvent).id);
    expect(stream.messages.map((m) => m.data).join('\n')).not.toContain('s3cret');
  });

  it('streams run.failed with its error for a failing target', async () => {
    const stream = await watch(tokens.a, '?type=run.failed');
    const task = await create(tokens.a, 'org-a', 'fails', '/fail');
    const failed = await seenBy(stream, (e) => e.taskID === task.id, 'run.failed');
    await deactivate(tokens.a, task.id);
    expect(failed).toEqual({
      id: `${failed.runID}:failed:1`,
      type: 'run.failed',
      time: expect.any(String),
      orgID: 'org-a',
      taskID: task.id,
      taskType: 'task',
      runID: expect.any(String),
      scheduledFor: expect.any(String),
      attempt: 1,
      status: 'failed',
      error: expect.stringMatching(/500/),
    });
  });

  it('streams run.scheduled then run.canceled for a cancelled manual run; taskID filters', async () => {
    // Active (an inactive task takes no manual run), due only on 29 February, one run at a
    // time: a slow first run holds the slot, so the second waits, queued, to be cancelled.
    const task = await create(tokens.a, 'org-a', 'manual', '/slow', {
      every: undefined,
      cron: '0 0 29 2 *',
      concurrency: 1,
    });
    const stream = await watch(tokens.a, `?taskID=${task.id}`);
    const other = await create(tokens.a, 'org-a', 'other', '/ok', { status: 'inactive' });
    const blocker = (await api(tokens.a, 'POST', `/api/v2/tasks/${task.id}/runs`, {})).body as { id: string };
    await seenBy(stream, (e) => e.type === 'run.started' && e.runID === blocker.id, 'the first run to start');
    const later = new Date(Date.now() + 3_600_000).toISOString();
    const run = (await api(tokens.a, 'POST', `/api/v2/tasks/${task.id}/runs`, { scheduledFor: later }))
      .body as {
      id: string;
    };
    expect((await api(tokens.a, 'DELETE', `/api/v2/tasks/${task.id}/runs/${run.id}`)).status).toBe(204);
    const canceled = await seenBy(stream, (e) => e.type === 'run.canceled', 'run.canceled');
    expect(
      eventsOf(stream)
        .filter((e) => e.runID === run.id)
        .map((e) => e.type),
    ).toEqual(['run.scheduled', 'run.canceled']);
    expect(canceled).toEqual({
      id: `${run.id}:canceled:1`,
      type: 'run.canceled',
      time: expect.any(String),
      orgID: 'org-a',
      taskID: task.id,
      taskType: 'task',
      runID: run.id,
      scheduledFor: later,
      attempt: 1,
      status: 'canceled',
    });
    expect(eventsOf(stream).every((e) => e.taskID === task.id && e.taskID !== other.id)).toBe(true);
  });

  it("shows an org token only its own org's events, and refuses another org's orgID with 403", async () => {
    const streamB = await watch(tokens.b);
    const streamA = await watch(tokens.a);
    const taskA = await create(tokens.a, 'org-a', 'a-only', '/ok', { status: 'inactive' });
    const taskB = await create(tokens.b, 'org-b', 'b-only', '/ok', { status: 'inactive' });
    await seenBy(streamB, (e) => e.taskID === taskB.id, "org B's own task.created");
    await seenBy(streamA, (e) => e.taskID === taskA.id, "org A's own task.created");
    expect(eventsOf(streamB).map((e) => e.orgID)).toEqual(['org-b']);
    expect(eventsOf(streamA).some((e) => e.orgID !== 'org-a')).toBe(false);

    const refused = await watch(tokens.b, '?orgID=org-a');
    expect(refused.status).toBe(403);
    expect(JSON.parse(await refused.text())).toEqual({
      code: 'forbidden',
      message: expect.stringMatching(/orgID/),
    });
  });

  it('sends no event of a system the token cannot read', async () => {
    const checksOnly = await watch(tokens.aChecksOnly);
    const operator = await watch(TEST_OPERATOR_TOKEN, '?orgID=org-a');
    const task = await create(tokens.a, 'org-a', 'unseen', '/ok', { status: 'inactive' });
    await seenBy(operator, (e) => e.taskID === task.id, 'the operator sees the task.created');
    expect(eventsOf(checksOnly)).toEqual([]);
  });

  it('filters by type, and answers a bad type with 400 naming type and the valid types', async () => {
    const stream = await watch(tokens.a, '?type=task.created,task.deleted');
    const task = await create(tokens.a, 'org-a', 'typed', '/ok', { status: 'inactive' });
    await api(tokens.a, 'PATCH', `/api/v2/tasks/${task.id}`, { name: 'renamed' });
    expect((await api(tokens.a, 'DELETE', `/api/v2/tasks/${task.id}`)).status).toBe(204);
    await seenBy(stream, (e) => e.type === 'task.deleted', 'task.deleted');
    expect(eventsOf(stream).map((e) => e.type)).toEqual(['task.created', 'task.deleted']);

    const bad = await watch(tokens.a, '?type=run.started,run.exploded');
    expect(bad.status).toBe(400);
    const body = JSON.parse(await bad.text()) as { code: string; message: string };
    expect(body.code).toBe('invalid');
    expect(body.message).toMatch(/type: .*"run\.exploded"/);
    for (const type of EVENT_TYPES) expect(body.message).toContain(`"${type}"`);
  });

  it('resumes after Last-Event-ID from the kept events', async () => {
    const first = await watch(tokens.a);
    const task = await create(tokens.a, 'org-a', 'resume', '/ok');
    await seenBy(first, (e) => e.taskID === task.id && e.type === 'run.succeeded', 'run.succeeded');
    await deactivate(tokens.a, task.id);
    const [created, next] = eventsOf(first).filter((e) => e.taskID === task.id);
    if (!created || !next) throw new Error('expected two events of the task');

    const resumed = await watch(tokens.a, `?taskID=${task.id}`, { 'last-event-id': created.id });
    const replayed = await until(() => eventsOf(resumed)[0], 'the first replayed event');
    expect(replayed).toEqual(next);
    expect(eventsOf(resumed).some((e) => e.id === created.id)).toBe(false);
  });

  it('refuses a request without a token with 401, and other methods with 405', async () => {
    const anonymous = await watch(undefined);
    expect(anonymous.status).toBe(401);
    expect(JSON.parse(await anonymous.text())).toMatchObject({ code: 'unauthorized' });
    const post = await api(tokens.a, 'POST', '/api/v2/events', {});
    expect(post.status).toBe(405);
    expect(post.body).toMatchObject({ code: 'method not allowed' });
  });

  it('sends a keep-alive comment while idle', async () => {
    const stream = await watch(tokens.a, '?taskID=none-such');
    await until(() => (stream.comments.includes('keep-alive') ? true : undefined), 'a keep-alive comment');
    expect(stream.messages).toEqual([]);
  });

  it('leaves no listener behind when the client disconnects', async () => {
    for (const client of clients.splice(0)) client.close();
    await until(() => (rota.openEventStreams() === 0 ? true : undefined), 'every stream closed');
    const before = rota.events.listenerCount();
    const stream = await watch(tokens.a);
    await until(() => (rota.events.listenerCount() === before + 1 ? true : undefined), 'one more listener');
    expect(rota.openEventStreams()).toBe(1);
    stream.close();
    await until(() => (rota.events.listenerCount() === before ? true : undefined), 'the listener gone');
    expect(rota.openEventStreams()).toBe(0);
  });

  it('ends open streams cleanly when local mode stops', async () => {
    const stream = await watch(tokens.a);
    await until(() => (rota.openEventStreams() === 1 ? true : undefined), 'the stream open');
    await rota.stop();
    await stream.done;
    expect(stream.state()).toEqual({ ended: 'done', error: undefined });
  });
});
