import { HttpError, InfluxDB } from '@influxdata/influxdb-client';
import { type TaskCreateRequest, TasksAPI } from '@influxdata/influxdb-client-apis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalRota, startLocal } from '../../local/start';

/**
 * Local mode driven over HTTP as a user would: the official InfluxDB client for
 * everything it has a method for, plain fetch for the rest.
 */
describe('tasks API in local mode', () => {
  let rota: LocalRota;
  let tasks: TasksAPI;
  const orgID = 'e2e-org';
  const token = 'test-operator-token';
  const target = { kind: 'http', url: 'http://127.0.0.1:9/hook', method: 'POST' };

  // The InfluxDB TaskCreateRequest type predates Rota's `target`; the client sends the body as is.
  const createBody = (extra: Record<string, unknown>) =>
    ({ orgID, target, ...extra }) as unknown as TaskCreateRequest;

  type ErrorJson = { code: string; message: string };
  const raw = (path: string, init: RequestInit = {}) =>
    fetch(`${rota.url}${path}`, {
      ...init,
      headers: { 'content-type': 'application/json', authorization: `Token ${token}`, ...init.headers },
    });

  beforeAll(async () => {
    rota = await startLocal({ port: 0, env: { ROTA_BOOTSTRAP_TOKEN: token } });
    tasks = new TasksAPI(new InfluxDB({ url: rota.url, token }));
  });
  afterAll(async () => {
    await rota?.stop();
  });

  it('creates a task from an InfluxDB Flux body with the official client', async () => {
    const flux = 'option task = {name: "downsample", every: 1h, offset: 5m}\n\nfrom(bucket: "raw")';
    const task = await tasks.postTasks({ body: createBody({ flux, description: 'hourly' }) });
    expect(task).toMatchObject({
      orgID,
      name: 'downsample',
      every: '1h',
      offset: '5m',
      status: 'active',
      flux,
      description: 'hourly',
    });
    // InfluxDB's type for a user's own task; Rota's internal system type stays inside.
    expect((task as unknown as { type: string }).type).toBe('basic');
    expect(task.links?.self).toBe(`/api/v2/tasks/${task.id}`);
    expect(Date.parse(task.createdAt ?? '')).not.toBeNaN();

    const fetched = await tasks.getTasksID({ taskID: task.id });
    expect(fetched).toEqual(task);
  });

  it('updates, lists with paging, and deletes with the official client', async () => {
    const created = [];
    for (const name of ['p1', 'p2', 'p3']) {
      created.push(await tasks.postTasks({ body: createBody({ name, every: '10m', orgID: 'paging-org' }) }));
    }
    const page1 = await tasks.getTasks({ orgID: 'paging-org', limit: 2 });
    expect(page1.tasks?.map((t) => t.name)).toEqual(['p1', 'p2']);
    expect(page1.links?.next).toBe(`/api/v2/tasks?orgID=paging-org&limit=2&after=${created[1]?.id}`);
    const page2 = await tasks.getTasks({ orgID: 'paging-org', limit: 2, after: created[1]?.id ?? '' });
    expect(page2.tasks?.map((t) => t.name)).toEqual(['p3']);
    expect(page2.links?.next).toBeUndefined();

    const id = created[0]?.id ?? '';
    const patched = await tasks.patchTasksID({
      taskID: id,
      body: { status: 'inactive', every: '30m' },
    });
    expect(patched).toMatchObject({ status: 'inactive', every: '30m' });
    expect(
      (await tasks.getTasks({ orgID: 'paging-org', status: 'inactive' })).tasks?.map((t) => t.id),
    ).toEqual([id]);

    // A queued manual run is stored at once; deleting the task deletes it too. An inactive
    // task takes no manual run, so the task is active again first.
    await tasks.patchTasksID({ taskID: id, body: { status: 'active' } });
    const queued = await tasks.postTasksIDRuns({ taskID: id, body: {} });
    await tasks.deleteTasksID({ taskID: id });
    const runGone = await raw(`/api/v2/tasks/${id}/runs/${queued.id}`);
    expect(runGone.status).toBe(404);
    const gone = await tasks.getTasksID({ taskID: id }).catch((e: unknown) => e);
    expect(gone).toBeInstanceOf(HttpError);
    expect((gone as HttpError).statusCode).toBe(404);
    expect(JSON.parse((gone as HttpError).body ?? '')).toEqual({
      code: 'not found',
      message: 'task not found',
    });
  });

  it('answers bad input with {code, message} and changes nothing', async () => {
    const task = await tasks.postTasks({ body: createBody({ name: 'stable', every: '1m' }) });
    const before = await (await raw(`/api/v2/tasks/${task.id}`)).text();

    const cases: [string, RequestInit, number, string, RegExp][] = [
      [
        'malformed JSON',
        { method: 'PATCH', body: '{"name":' },
        400,
        'invalid',
        /failed to decode request body/,
      ],
      [
        'wrong content type',
        { method: 'PATCH', body: 'name=x', headers: { 'content-type': 'text/plain' } },
        400,
        'invalid',
        /content-type/,
      ],
      [
        'unknown field',
        { method: 'PATCH', body: '{"colour":"red"}' },
        400,
        'invalid',
        /unknown field\(s\) colour/,
      ],
      ['type in body', { method: 'PATCH', body: '{"type":"check"}' }, 400, 'invalid', /type/],
      [
        'every and cron together',
        { method: 'PATCH', body: '{"cron":"* * * * *","every":"1m"}' },
        400,
        'invalid',
        /not both/,
      ],
      ['bad cron', { method: 'PATCH', body: '{"cron":"99 * * * *"}' }, 400, 'invalid', /invalid cron/],
      ['bad duration', { method: 'PATCH', body: '{"every":"soon"}' }, 400, 'invalid', /invalid duration/],
      [
        'oversized body',
        { method: 'PATCH', body: JSON.stringify({ description: 'x'.repeat(1_100_000) }) },
        413,
        'request too large',
        /limit/,
      ],
      [
        'stale If-Match',
        { method: 'PATCH', body: '{"name":"x"}', headers: { 'if-match': '"99"' } },
        409,
        'conflict',
        /version/,
      ],
    ];
    for (const [what, init, status, code, message] of cases) {
      const res = await raw(`/api/v2/tasks/${task.id}`, init);
      const body = (await res.json()) as ErrorJson;
      expect({ what, status: res.status, code: body.code }).toEqual({ what, status, code });
      expect(body.message).toMatch(message);
      expect(res.headers.get('x-platform-error-code')).toBe(code);
    }
    expect(await (await raw(`/api/v2/tasks/${task.id}`)).text()).toBe(before);
  });

  it('refuses bad list queries and unknown ids', async () => {
    // An integer out of range is InfluxDB's 422; a limit that is no integer is a plain 400.
    for (const limit of ['0', '501']) {
      const res = await raw(`/api/v2/tasks?orgID=${orgID}&limit=${limit}`);
      expect(res.status).toBe(422);
      expect(await res.json()).toEqual({
        code: 'unprocessable entity',
        message: 'limit must be between 1 and 500',
      });
    }
    const notANumber = await raw(`/api/v2/tasks?orgID=${orgID}&limit=ten`);
    expect(notANumber.status).toBe(400);
    expect(((await notANumber.json()) as ErrorJson).message).toMatch(/^invalid query: limit/);
    // The operator without an org lists every org's tasks; creating still needs the org.
    const task = await tasks.postTasks({ body: createBody({ name: 'listed', every: '1h' }) });
    const everyOrg = await raw('/api/v2/tasks');
    expect(everyOrg.status).toBe(200);
    expect(((await everyOrg.json()) as { tasks: { id: string }[] }).tasks.map((t) => t.id)).toContain(
      task.id,
    );
    const missingOrg = await raw('/api/v2/tasks', {
      method: 'POST',
      body: JSON.stringify({ name: 'no org', every: '1h', flux: 'from(bucket: "b")' }),
    });
    expect(await missingOrg.json()).toEqual({ code: 'invalid', message: 'orgID is required' });
    const unknown = await raw('/api/v2/tasks/does-not-exist', { method: 'DELETE' });
    expect(unknown.status).toBe(404);
  });

  it('creates with a POST that sets type refused, and nothing stored', async () => {
    const res = await raw('/api/v2/tasks', {
      method: 'POST',
      body: JSON.stringify({ orgID: 'type-org', name: 'forged', every: '1m', type: 'check', target }),
    });
    expect(res.status).toBe(400);
    expect((await tasks.getTasks({ orgID: 'type-org' })).tasks).toEqual([]);
  });

  it('serves health and an OpenAPI document generated from the schemas', async () => {
    expect(await (await raw('/health')).json()).toEqual({ status: 'pass' });
    const doc = (await (await raw('/api/v2/openapi.json')).json()) as {
      openapi: string;
      paths: Record<string, unknown>;
      components: { schemas: Record<string, { properties: Record<string, unknown> }> };
    };
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/v2/tasks', '/api/v2/tasks/{id}']));
    const createSchema = doc.components.schemas.TaskCreateRequest;
    expect(createSchema?.properties.target).toBeDefined();
    expect(createSchema?.properties.type).toBeUndefined();
  });
});
