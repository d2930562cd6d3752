import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { HttpError, InfluxDB } from '@influxdata/influxdb-client';
import { AuthorizationsAPI, type TaskCreateRequest, TasksAPI } from '@influxdata/influxdb-client-apis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalRota, startLocal } from '../../local/start';
import {
  type ApiAnswer,
  apiClient,
  createToken,
  permissionsBody,
  TEST_OPERATOR_TOKEN,
} from '../support/auth';
import { dynamoClient } from '../support/emulators';

/**
 * Tokens, permissions and org isolation in local mode, driven over HTTP: the HTTP
 * adapter runs the same authorizer API Gateway runs on AWS.
 */
describe('API tokens in local mode', () => {
  const OP = TEST_OPERATOR_TOKEN;
  const target = { kind: 'http', url: 'http://127.0.0.1:9/hook', method: 'POST' };
  let rota: LocalRota;
  let api: ReturnType<typeof apiClient>;
  let a: { id: string; token: string };
  let aRead: { id: string; token: string };
  let aWrite: { id: string; token: string };
  let aAdmin: { id: string; token: string };
  let b: { id: string; token: string };
  let taskA: { id: string };
  let taskB: { id: string };
  let runA: { id: string };
  let runB: { id: string };

  // A bad token, whether its id exists or not, and an inactive one all read the same.
  const unauthorized = { code: 'unauthorized', message: 'the token is invalid or inactive' };
  const noHeader = {
    code: 'unauthorized',
    message: 'no Authorization header: send "Authorization: Token <token>"',
  };
  const expectStatus = (res: ApiAnswer, status: number, what: string) =>
    expect(res.status, `${what}: ${res.text}`).toBe(status);

  beforeAll(async () => {
    rota = await startLocal({ port: 0, workers: 2, env: { ROTA_BOOTSTRAP_TOKEN: OP } });
    api = apiClient(rota.url);
    a = await createToken(rota.url, OP, 'org-a', { tasks: ['read', 'write'] });
    aRead = await createToken(rota.url, OP, 'org-a', { tasks: ['read'] });
    aWrite = await createToken(rota.url, OP, 'org-a', { tasks: ['write'] });
    aAdmin = await createToken(rota.url, OP, 'org-a', { authorizations: ['read', 'write'], tasks: ['read'] });
    b = await createToken(rota.url, OP, 'org-b', { tasks: ['read', 'write'] });

    // The body names no org: an org token's org comes from the token.
    const createdA = await api(a.token, 'POST', '/api/v2/tasks', { name: 'a-task', every: '1h', target });
    expectStatus(createdA, 201, 'create in org-a');
    taskA = createdA.body;
    const createdB = await api(b.token, 'POST', '/api/v2/tasks', { name: 'b-task', every: '1h', target });
    taskB = createdB.body;
    runA = (await api(a.token, 'POST', `/api/v2/tasks/${taskA.id}/runs`, {})).body;
    runB = (await api(b.token, 'POST', `/api/v2/tasks/${taskB.id}/runs`, {})).body;
  });
  afterAll(async () => {
    await rota?.stop();
  });

  describe('authentication', () => {
    it('serves the health probe and the OpenAPI document without a token', async () => {
      expectStatus(await api(undefined, 'GET', '/health'), 200, 'health');
      expectStatus(await api(undefined, 'GET', '/api/v2/openapi.json'), 200, 'openapi');
    });

    it('answers 401 to no token, a malformed one, an unknown one and a forged one, on every API', async () => {
      const [id] = a.token.split('.');
      const headers: (string | undefined)[] = [
        undefined,
        'garbage',
        `${OP}x`,
        `${id}.${'A'.repeat(43)}`,
        `01jxxxxxxxxxxxxxxxxxxxxxxx.${'B'.repeat(43)}`,
      ];
      const requests: [string, string, unknown?][] = [
        ['GET', '/api/v2/tasks?orgID=org-a'],
        ['POST', '/api/v2/tasks', { orgID: 'org-a', name: 'x', every: '1m', target }],
        ['GET', `/api/v2/tasks/${taskA.id}`],
        ['GET', `/api/v2/tasks/${taskA.id}/runs`],
        ['GET', '/api/v2/authorizations?orgID=org-a'],
        [
          'POST',
          '/api/v2/authorizations',
          { orgID: 'org-a', permissions: permissionsBody({ tasks: ['read'] }) },
        ],
        ['GET', '/api/v2/tasks/no-such-path/at/all'],
      ];
      for (const token of headers) {
        for (const [method, path, body] of requests) {
          const res = await api(token, method, path, body);
          expectStatus(res, 401, `${method} ${path} with ${token?.slice(0, 12)}`);
          expect(res.body).toEqual(token === undefined ? noHeader : unauthorized);
          expect(res.headers.get('x-platform-error-code')).toBe('unauthorized');
        }
      }
      // An empty or blank header reads as none, as a missing one does (on AWS too: the
      // authorizer has no identity source, so API Gateway answers neither itself).
      for (const blank of ['', '   ']) {
        const res = await fetch(`${rota.url}/api/v2/tasks?orgID=org-a`, {
          headers: { authorization: blank },
        });
        expect(res.status, `header ${JSON.stringify(blank)}`).toBe(401);
        expect(await res.json()).toEqual(noHeader);
      }
      // Another scheme is no token either.
      const basic = await fetch(`${rota.url}/api/v2/tasks?orgID=org-a`, {
        headers: { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` },
      });
      expect(basic.status).toBe(401);
      expect(await basic.json()).toEqual({
        code: 'unauthorized',
        message: 'the Authorization header must read "Token <token>" (or "Bearer <token>")',
      });
    });

    it('stops an inactive token at once, lets it back in when reactivated, and a deleted one never again', async () => {
      const t = await createToken(rota.url, OP, 'org-a', { tasks: ['read'] });
      const list = () => api(t.token, 'GET', '/api/v2/tasks');
      expectStatus(await list(), 200, 'fresh token');
      expectStatus(
        await api(OP, 'PATCH', `/api/v2/authorizations/${t.id}`, { status: 'inactive' }),
        200,
        'deactivate',
      );
      expect(await list()).toMatchObject({ status: 401, body: unauthorized });
      expectStatus(
        await api(OP, 'PATCH', `/api/v2/authorizations/${t.id}`, { status: 'active' }),
        200,
        'reactivate',
      );
      expectStatus(await list(), 200, 'reactivated');
      expectStatus(await api(OP, 'DELETE', `/api/v2/authorizations/${t.id}`), 204, 'delete');
      expect(await list()).toMatchObject({ status: 401, body: unauthorized });
    });

    it('keeps only token hashes in the table', async () => {
      const client = dynamoClient(rota.env.ROTA_DYNAMODB_ENDPOINT ?? '');
      const scan = await client.send(new ScanCommand({ TableName: rota.env.ROTA_TABLE_NAME }));
      client.destroy();
      const raw = JSON.stringify(scan.Items);
      for (const t of [a, aRead, aWrite, aAdmin, b]) {
        expect(raw).toContain(t.id);
        expect(raw).not.toContain(t.token.split('.')[1]);
      }
      expect(raw).not.toContain(OP);
    });
  });

  describe('permissions', () => {
    it('answer 403 to writes without write permission, and reads still work', async () => {
      const writes: [string, string, unknown?][] = [
        ['POST', '/api/v2/tasks', { name: 'x', every: '1m', target }],
        ['PATCH', `/api/v2/tasks/${taskA.id}`, { name: 'renamed' }],
        ['DELETE', `/api/v2/tasks/${taskA.id}`],
        ['POST', `/api/v2/tasks/${taskA.id}/runs`, {}],
        ['DELETE', `/api/v2/tasks/${taskA.id}/runs/${runA.id}`],
        ['POST', `/api/v2/tasks/${taskA.id}/runs/${runA.id}/retry`],
      ];
      for (const [method, path, body] of writes) {
        const res = await api(aRead.token, method, path, body);
        expectStatus(res, 403, `${method} ${path}`);
        expect(res.body).toEqual({ code: 'forbidden', message: 'token lacks write permission on tasks' });
      }
      expectStatus(await api(aRead.token, 'GET', `/api/v2/tasks/${taskA.id}`), 200, 'read');
      expect((await api(a.token, 'GET', `/api/v2/tasks/${taskA.id}`)).body.name).toBe('a-task');
    });

    it('answer 403 to reads without read permission, while writes go through', async () => {
      for (const path of [
        '/api/v2/tasks',
        `/api/v2/tasks/${taskA.id}`,
        `/api/v2/tasks/${taskA.id}/runs`,
        `/api/v2/tasks/${taskA.id}/runs/${runA.id}`,
        `/api/v2/tasks/${taskA.id}/runs/${runA.id}/logs`,
        `/api/v2/tasks/${taskA.id}/logs`,
      ]) {
        const res = await api(aWrite.token, 'GET', path);
        expectStatus(res, 403, path);
        expect(res.body.message).toBe('token lacks read permission on tasks');
      }
      const created = await api(aWrite.token, 'POST', '/api/v2/tasks', { name: 'w', every: '1h', target });
      expectStatus(created, 201, 'write-only create');
      expectStatus(await api(a.token, 'DELETE', `/api/v2/tasks/${created.body.id}`), 204, 'cleanup');
    });

    it('answer 403 on another system’s API and on the authorizations API', async () => {
      expectStatus(await api(a.token, 'GET', '/api/v2/authorizations'), 403, 'list tokens');
      expectStatus(
        await api(a.token, 'POST', '/api/v2/authorizations', {
          permissions: permissionsBody({ tasks: ['read'] }),
        }),
        403,
        'issue token',
      );
      expectStatus(
        await api(aAdmin.token, 'POST', '/api/v2/tasks', { name: 'x', every: '1m', target }),
        403,
        'admin write',
      );
    });
  });

  describe('org isolation', () => {
    it("answers 404 for another org's task, runs and logs, whatever the method", async () => {
      const requests: [string, string, unknown?][] = [
        ['GET', `/api/v2/tasks/${taskB.id}`],
        ['PATCH', `/api/v2/tasks/${taskB.id}`, { name: 'stolen' }],
        ['DELETE', `/api/v2/tasks/${taskB.id}`],
        ['GET', `/api/v2/tasks/${taskB.id}/runs`],
        ['POST', `/api/v2/tasks/${taskB.id}/runs`, {}],
        ['GET', `/api/v2/tasks/${taskB.id}/runs/${runB.id}`],
        ['DELETE', `/api/v2/tasks/${taskB.id}/runs/${runB.id}`],
        ['POST', `/api/v2/tasks/${taskB.id}/runs/${runB.id}/retry`],
        ['GET', `/api/v2/tasks/${taskB.id}/runs/${runB.id}/logs`],
        ['GET', `/api/v2/tasks/${taskB.id}/logs`],
        // B's run under A's own task is not reachable either.
        ['GET', `/api/v2/tasks/${taskA.id}/runs/${runB.id}`],
      ];
      for (const [method, path, body] of requests) {
        const res = await api(a.token, method, path, body);
        expectStatus(res, 404, `${method} ${path}`);
        expect(res.body.code).toBe('not found');
      }
      // B's task is untouched and B still sees it.
      expect((await api(b.token, 'GET', `/api/v2/tasks/${taskB.id}`)).body.name).toBe('b-task');
    });

    it("lists only the token's org, with or without orgID, and refuses another org with 403", async () => {
      for (const path of ['/api/v2/tasks', '/api/v2/tasks?orgID=org-a', '/api/v2/tasks?org=org-a']) {
        const res = await api(a.token, 'GET', path);
        expectStatus(res, 200, path);
        const orgs = new Set(res.body.tasks.map((t: { orgID: string }) => t.orgID));
        expect([...orgs]).toEqual(['org-a']);
        expect(res.body.tasks.map((t: { id: string }) => t.id)).toContain(taskA.id);
      }
      for (const path of ['/api/v2/tasks?orgID=org-b', '/api/v2/tasks?org=org-b']) {
        expect(await api(a.token, 'GET', path)).toMatchObject({
          status: 403,
          body: { code: 'forbidden', message: 'orgID does not match the caller' },
        });
      }
    });

    it("refuses a body orgID that is not the token's org with 403", async () => {
      for (const body of [
        { orgID: 'org-b', name: 'x', every: '1m', target },
        { org: 'org-b', name: 'x', every: '1m', target },
      ]) {
        expect(await api(a.token, 'POST', '/api/v2/tasks', body)).toMatchObject({
          status: 403,
          body: { code: 'forbidden' },
        });
      }
      expectStatus(
        await api(a.token, 'POST', '/api/v2/tasks', {
          orgID: 'org-a',
          name: 'same-org',
          every: '1h',
          target,
        }),
        201,
        'own org named explicitly',
      );
    });

    it('lets the operator act on any org, naming it or listing them all', async () => {
      expect((await api(OP, 'GET', `/api/v2/tasks/${taskB.id}`)).body.orgID).toBe('org-b');
      expect(
        (await api(OP, 'GET', '/api/v2/tasks?orgID=org-b')).body.tasks.map((t: { id: string }) => t.id),
      ).toEqual([taskB.id]);
      // Without an org the operator lists every org's, as InfluxDB's operator token does.
      const everyOrg = await api(OP, 'GET', '/api/v2/tasks');
      expect(everyOrg.status).toBe(200);
      expect(everyOrg.body.tasks.map((t: { id: string }) => t.id)).toEqual(
        expect.arrayContaining([taskA.id, taskB.id]),
      );
      expectStatus(
        await api(OP, 'POST', '/api/v2/tasks', { name: 'x', every: '1m', target }),
        400,
        'operator without org',
      );
    });

    it('works with the official InfluxDB clients and an org token', async () => {
      const tasks = new TasksAPI(new InfluxDB({ url: rota.url, token: a.token }));
      const created = await tasks.postTasks({
        body: { name: 'client', every: '1h', target } as unknown as TaskCreateRequest,
      });
      expect(created.orgID).toBe('org-a');
      expect((await tasks.getTasks()).tasks?.every((t) => t.orgID === 'org-a')).toBe(true);
      const foreign = await tasks.getTasksID({ taskID: taskB.id }).catch((e: unknown) => e);
      expect(foreign).toBeInstanceOf(HttpError);
      expect((foreign as HttpError).statusCode).toBe(404);
      const anonymous = new TasksAPI(new InfluxDB({ url: rota.url }));
      const refused = await anonymous.getTasks({ orgID: 'org-a' }).catch((e: unknown) => e);
      expect((refused as HttpError).statusCode).toBe(401);
    });
  });

  describe('the authorizations API', () => {
    it('shows a token once, on create, in InfluxDB’s Authorization shape', async () => {
      const authorizations = new AuthorizationsAPI(new InfluxDB({ url: rota.url, token: OP }));
      const created = await authorizations.postAuthorizations({
        body: {
          orgID: 'org-new',
          description: 'ci',
          permissions: [
            { action: 'read', resource: { type: 'tasks', orgID: 'org-new' } },
            { action: 'write', resource: { type: 'tasks' } },
          ],
        },
      });
      expect(created).toMatchObject({
        status: 'active',
        description: 'ci',
        orgID: 'org-new',
        permissions: [
          { action: 'read', resource: { type: 'tasks', orgID: 'org-new' } },
          { action: 'write', resource: { type: 'tasks', orgID: 'org-new' } },
        ],
        links: { self: `/api/v2/authorizations/${created.id}` },
      });
      expect(created.token).toMatch(/^[0-9a-z]{26}\./);

      const listed = await authorizations.getAuthorizations({ orgID: 'org-new' });
      expect(listed.authorizations?.map((x) => x.id)).toEqual([created.id]);
      expect(JSON.stringify(listed)).not.toContain(created.token);
      const one = await api(OP, 'GET', `/api/v2/authorizations/${created.id}`);
      expect(one.body.token).toBeUndefined();
      expect(one.text).not.toContain(created.token);

      // Issuing the token created org-new: it works there at once.
      expectStatus(await api(created.token, 'GET', '/api/v2/tasks'), 200, 'new org token');
    });

    it('lets an org admin manage its own org’s tokens, never granting more than it holds', async () => {
      const issue = (orgID: string | undefined, grants: Parameters<typeof permissionsBody>[0]) =>
        api(aAdmin.token, 'POST', '/api/v2/authorizations', {
          ...(orgID ? { orgID } : {}),
          permissions: permissionsBody(grants),
        });
      const own = await issue(undefined, { tasks: ['read'] });
      expectStatus(own, 201, 'subset');
      expect(own.body.orgID).toBe('org-a');
      expect(await issue(undefined, { tasks: ['write'] })).toMatchObject({
        status: 403,
        body: { message: 'cannot grant permissions the caller does not hold: write:tasks' },
      });
      expectStatus(await issue('org-b', { tasks: ['read'] }), 403, 'other org');
      expectStatus(
        await api(aAdmin.token, 'POST', '/api/v2/authorizations', {
          permissions: [{ action: 'read', resource: { type: 'tasks', orgID: 'org-b' } }],
        }),
        400,
        'permission on another org',
      );

      const mine = await api(aAdmin.token, 'GET', '/api/v2/authorizations');
      expect(new Set(mine.body.authorizations.map((x: { orgID: string }) => x.orgID))).toEqual(
        new Set(['org-a']),
      );
      for (const t of [a, aRead, aWrite, aAdmin, own.body]) expect(mine.text).not.toContain(t.token);
      expect(mine.body.authorizations.some((x: { token?: string }) => 'token' in x)).toBe(false);
      expectStatus(
        await api(aAdmin.token, 'GET', '/api/v2/authorizations?orgID=org-b'),
        403,
        'list other org',
      );
      expectStatus(await api(aAdmin.token, 'GET', `/api/v2/authorizations/${b.id}`), 404, 'other org token');
      expectStatus(
        await api(aAdmin.token, 'DELETE', `/api/v2/authorizations/${b.id}`),
        404,
        'delete other org',
      );
      expectStatus(
        await api(aAdmin.token, 'PATCH', `/api/v2/authorizations/${b.id}`, { status: 'inactive' }),
        404,
        'deactivate other org',
      );
      // A token with write:tasks is beyond what the admin holds: no deactivating it either.
      expectStatus(
        await api(aAdmin.token, 'PATCH', `/api/v2/authorizations/${a.id}`, { status: 'inactive' }),
        403,
        'deactivate stronger token',
      );
      expectStatus(await api(aAdmin.token, 'DELETE', `/api/v2/authorizations/${own.body.id}`), 204, 'revoke');
      expectStatus(await api(own.body.token, 'GET', '/api/v2/tasks'), 401, 'revoked token');
      expectStatus(await api(b.token, 'GET', '/api/v2/tasks'), 200, 'b unaffected');
    });

    it('validates bodies', async () => {
      const post = (body: unknown) => api(OP, 'POST', '/api/v2/authorizations', body);
      expectStatus(await post({ orgID: 'org-a', permissions: [] }), 400, 'no permissions');
      expectStatus(
        await post({ orgID: 'org-a', permissions: [{ action: 'admin', resource: { type: 'tasks' } }] }),
        400,
        'action',
      );
      expectStatus(
        await post({ orgID: 'org-a', permissions: [{ action: 'read', resource: { type: 'buckets' } }] }),
        400,
        'type',
      );
      expectStatus(
        await post({ orgID: 'bad#org', permissions: permissionsBody({ tasks: ['read'] }) }),
        400,
        'orgID',
      );
      expectStatus(
        await post({ permissions: permissionsBody({ tasks: ['read'] }) }),
        400,
        'operator without org',
      );
      expectStatus(await api(OP, 'PATCH', `/api/v2/authorizations/${a.id}`, {}), 400, 'empty patch');
      expectStatus(
        await api(OP, 'PATCH', `/api/v2/authorizations/${a.id}`, { status: 'gone' }),
        400,
        'status',
      );
      expectStatus(await api(OP, 'GET', '/api/v2/authorizations/01jnonexistentnonexistent0'), 404, 'missing');
    });
  });
});
