import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { DENIED } from '../../lib/auth/authorizer';
import { type ApiHandlerOptions, createApiHandler } from '../../lib/http/api-handler';
import { bodyOf, param } from '../../lib/http/request';
import { json } from '../../lib/http/response';
import { taskCreateBody } from '../../lib/systems/tasks/api-schemas';
import { apiEvent, testContext } from '../support/events';

const TOKEN_ID = '01jabcdefghjkmnpqrstvwxyz0';

// Each route echoes what the handler was told about the caller.
const routes = [
  {
    method: 'GET' as const,
    path: '/things/{id}',
    handler: async (req: Parameters<typeof echo>[0]) => echo(req, param(req, 'id')),
  },
  {
    method: 'POST' as const,
    path: '/things',
    handler: async (req: Parameters<typeof echo>[0]) =>
      echo(req, bodyOf(req, taskCreateBody.pick({ name: true }), 'invalid thing').name ?? ''),
  },
];
function echo(req: Parameters<Parameters<typeof createApiHandler>[0][number]['handler']>[0], id: string) {
  return json(200, { id, access: req.access, tokenID: req.caller?.tokenID ?? null });
}

type Authorizer = { lambda?: unknown; iam?: unknown };
const withAuthorizer = (event: APIGatewayProxyEventV2, authorizer?: Authorizer) => {
  if (authorizer) (event.requestContext as { authorizer?: Authorizer }).authorizer = authorizer;
  return event;
};
const orgToken = (permissions: string, orgID = 'org-a') => ({
  lambda: { orgID, tokenID: TOKEN_ID, permissions },
});

async function call(
  options: ApiHandlerOptions,
  method: string,
  path: string,
  authorizer?: Authorizer,
  init: Parameters<typeof apiEvent>[2] = {},
) {
  const res = await createApiHandler(routes, options)(
    withAuthorizer(apiEvent(method, path, init), authorizer),
    testContext(),
  );
  return { status: res.statusCode, body: res.body ? JSON.parse(res.body) : undefined };
}

describe('authentication in the API middleware', () => {
  const tasks: ApiHandlerOptions = { resource: 'tasks', authMode: 'token' };

  it('answers 401 without an authorizer context, and for a refused token', async () => {
    for (const authorizer of [undefined, { lambda: {} }, { lambda: 'garbage' }]) {
      expect(await call(tasks, 'GET', '/things/1', authorizer)).toEqual({
        status: 401,
        body: { code: 'unauthorized', message: 'unauthorized access' },
      });
    }
    expect(await call(tasks, 'GET', '/things/1', { lambda: DENIED })).toEqual({
      status: 401,
      body: { code: 'unauthorized', message: 'the token is invalid or inactive' },
    });
  });

  it('refuses before reading the body, so strangers learn nothing from validation', async () => {
    const res = await call(tasks, 'POST', '/things', undefined, { body: '{"name": ' });
    expect(res.status).toBe(401);
    const unknownPath = await call(tasks, 'GET', '/secret/admin/path');
    expect(unknownPath.status).toBe(401);
  });

  it('scopes an org token to its org and passes its id on', async () => {
    expect(await call(tasks, 'GET', '/things/1', orgToken('read:tasks'))).toEqual({
      status: 200,
      body: { id: '1', access: { orgID: 'org-a' }, tokenID: TOKEN_ID },
    });
  });

  it('needs read for GET and write for everything else, on this API’s resource', async () => {
    const body = { body: JSON.stringify({ name: 'x' }) };
    expect((await call(tasks, 'POST', '/things', orgToken('read:tasks'), body)).body).toEqual({
      code: 'forbidden',
      message: 'token lacks write permission on tasks',
    });
    expect((await call(tasks, 'GET', '/things/1', orgToken('write:tasks'))).status).toBe(403);
    expect((await call(tasks, 'POST', '/things', orgToken('write:tasks'), body)).status).toBe(200);
    // Permissions on another system count for nothing here.
    expect((await call(tasks, 'GET', '/things/1', orgToken('read:checks,write:checks'))).status).toBe(403);
    expect(
      (await call({ resource: 'checks', authMode: 'token' }, 'GET', '/things/1', orgToken('read:checks')))
        .status,
    ).toBe(200);
  });

  it('treats the operator and IAM-signed callers as the operator, on any org', async () => {
    const operator = { lambda: { orgID: '', tokenID: 'operator', permissions: '*' } };
    expect((await call(tasks, 'GET', '/things/1', operator)).body.access).toEqual({});
    const signed = { iam: { userArn: 'arn:aws:iam::1:role/service' } };
    expect(await call(tasks, 'POST', '/things', signed, { body: '{"name":"x"}' })).toMatchObject({
      status: 200,
      body: { access: {}, tokenID: 'operator' },
    });
  });

  it("lets every caller act as the operator in authMode 'none', and only there", async () => {
    expect((await call({ resource: 'tasks', authMode: 'none' }, 'GET', '/things/1')).body.access).toEqual({});
    expect((await call({ resource: 'tasks', authMode: 'iam' }, 'GET', '/things/1')).status).toBe(401);
  });

  it('keeps routes without a resource public, but still scopes a token that comes along', async () => {
    expect((await call({}, 'GET', '/things/1')).body).toMatchObject({ access: {}, tokenID: null });
    expect((await call({}, 'GET', '/things/1', orgToken(''))).body.access).toEqual({ orgID: 'org-a' });
    expect((await call({}, 'GET', '/things/1', { lambda: DENIED })).status).toBe(401);
  });

  it('uses a custom authenticate function when given', async () => {
    const options: ApiHandlerOptions = {
      resource: 'tasks',
      authenticate: async () => ({ orgID: 'org-z', tokenID: 'custom', permissions: new Set(['read:tasks']) }),
    };
    expect((await call(options, 'GET', '/things/1')).body.access).toEqual({ orgID: 'org-z' });
  });
});

describe('path parameters', () => {
  it('answer 400, not 500, for broken percent-encoding or an absurd length', async () => {
    expect((await call({}, 'GET', '/things/%E0%A4%A')).status).toBe(400);
    expect((await call({}, 'GET', `/things/${'a'.repeat(300)}`)).status).toBe(400);
  });
});
