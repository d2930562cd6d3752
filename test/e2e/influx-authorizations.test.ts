import { HttpError, InfluxDB } from '@influxdata/influxdb-client';
import { type Authorization, AuthorizationsAPI } from '@influxdata/influxdb-client-apis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalRota, startLocal } from '../../local/start';
import { type InfluxOperation, type InfluxResponse, influxViolations } from '../support/influx-contract';
import { type RecordedAnswer, recordingTransport } from '../support/influx-recording';

/**
 * `/api/v2/authorizations` as InfluxDB's own client (`AuthorizationsAPI`) calls it, with
 * the bodies the InfluxDB UI (a custom API token) and `influx auth create|list|active|
 * inactive|delete` send, against local mode. Every answer, success or error, is checked
 * against InfluxDB's published contract.
 */

const OPERATOR = 'influx-auth-operator';
const ORG_A = 'auth-org-a';
const ORG_B = 'auth-org-b';
const LIST: InfluxOperation = { method: 'GET', path: '/authorizations' };
const CREATE: InfluxOperation = { method: 'POST', path: '/authorizations' };
const ONE: InfluxOperation = { method: 'GET', path: '/authorizations/{authID}' };
const PATCH: InfluxOperation = { method: 'PATCH', path: '/authorizations/{authID}' };
const DELETE: InfluxOperation = { method: 'DELETE', path: '/authorizations/{authID}' };

/** The permissions `influx auth create --org-id ORG --read-tasks --write-tasks …` sends. */
const cliPermissions = (orgID: string, grants: Record<string, readonly ('read' | 'write')[]>) =>
  Object.entries(grants).flatMap(([type, actions]) =>
    actions.map((action) => ({ action, resource: { type, orgID } })),
  ) as Authorization['permissions'];

describe('InfluxDB authorizations against local mode, held to the InfluxDB contract', () => {
  let rota: LocalRota;
  const answers: RecordedAnswer[] = [];
  const clientOf = (token: string) => {
    const plain = new InfluxDB({ url: rota.url, token });
    return new AuthorizationsAPI(
      new InfluxDB({ url: rota.url, token, transport: recordingTransport(plain.transport, answers) }),
    );
  };
  let operator: AuthorizationsAPI;
  /** How many answers went through the contract: every one the client received, plus the raw ones. */
  let checked = 0;
  let rawChecked = 0;

  beforeAll(async () => {
    rota = await startLocal({ port: 0, env: { ROTA_BOOTSTRAP_TOKEN: OPERATOR } });
    operator = clientOf(OPERATOR);
  });
  afterAll(async () => {
    await rota?.stop();
  });

  function expectConforming(operation: InfluxOperation, before: number): InfluxResponse {
    expect(answers).toHaveLength(before + 1);
    const answer = answers[before] as InfluxResponse;
    checked += 1;
    expect({ operation, violations: influxViolations(operation, answer) }).toEqual({
      operation,
      violations: [],
    });
    return answer;
  }

  async function conforming<T>(operation: InfluxOperation, call: () => Promise<T>): Promise<T> {
    const before = answers.length;
    const result = await call();
    expectConforming(operation, before);
    return result;
  }

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

  /** A plain request, for what the client cannot send (`token=`), checked the same way. */
  async function raw(operation: InfluxOperation, token: string, path: string) {
    const res = await fetch(`${rota.url}${path}`, { headers: { authorization: `Token ${token}` } });
    const text = await res.text();
    const answer = { status: res.status, body: text ? JSON.parse(text) : undefined };
    expect(influxViolations(operation, answer)).toEqual([]);
    rawChecked += 1;
    return answer as { status: number; body: { authorizations: Authorization[] } };
  }

  const api = (token: string, method: string, path: string) =>
    fetch(`${rota.url}${path}`, { method, headers: { authorization: `Token ${token}` } });

  it("creates tokens with the CLI's and the UI's bodies, on InfluxDB's notification types", async () => {
    const cli = await conforming(CREATE, () =>
      operator.postAuthorizations({
        body: {
          orgID: ORG_A,
          description: 'cli token',
          status: 'active',
          permissions: cliPermissions(ORG_A, {
            tasks: ['read', 'write'],
            notificationRules: ['read'],
            notificationEndpoints: ['read'],
          }),
        },
      }),
    );
    expect(cli).toMatchObject({ orgID: ORG_A, status: 'active', description: 'cli token' });
    expect(cli.token).toEqual(expect.any(String));
    expect(cli.links?.self).toBe(`/api/v2/authorizations/${cli.id}`);

    // The UI's custom API token: no status, resources with their orgID.
    const ui = await conforming(CREATE, () =>
      operator.postAuthorizations({
        body: {
          orgID: ORG_B,
          description: 'ui token',
          permissions: cliPermissions(ORG_B, { notificationEndpoints: ['read', 'write'] }),
        },
      }),
    );
    expect(ui.permissions).toEqual(cliPermissions(ORG_B, { notificationEndpoints: ['read', 'write'] }));

    // Each type is its own permission: the rules reader reads rules, the endpoints-only token does not.
    const rules = await api(cli.token ?? '', 'GET', `/api/v2/notificationRules?orgID=${ORG_A}`);
    expect(rules.status).toBe(200);
    const endpointsOnly = await api(ui.token ?? '', 'GET', `/api/v2/notificationRules?orgID=${ORG_B}`);
    expect(endpointsOnly.status).toBe(403);
    expect(await endpointsOnly.json()).toEqual({
      code: 'forbidden',
      message: 'token lacks read permission on notificationRules',
    });
    expect((await api(ui.token ?? '', 'GET', `/api/v2/notificationEndpoints?orgID=${ORG_B}`)).status).toBe(
      200,
    );
  });

  it("takes an old client's notifications grant as both of InfluxDB's notification types", async () => {
    const legacy = await conforming(CREATE, () =>
      operator.postAuthorizations({
        body: {
          orgID: ORG_A,
          permissions: [{ action: 'read', resource: { type: 'notifications' } }],
        } as unknown as Parameters<AuthorizationsAPI['postAuthorizations']>[0]['body'],
      }),
    );
    expect(legacy.permissions).toEqual(
      cliPermissions(ORG_A, { notificationRules: ['read'], notificationEndpoints: ['read'] }),
    );
  });

  it('refuses a resource type Rota has no API for, naming the field and the valid types', async () => {
    const body = await refused(CREATE, 400, () =>
      operator.postAuthorizations({
        body: { orgID: ORG_A, permissions: cliPermissions(ORG_A, { buckets: ['read'] }) },
      }),
    );
    expect(body.code).toBe('invalid');
    expect(body.message).toContain('permissions.0.resource.type: must be one of "tasks", "checks"');
    expect(body.message).toContain('"notificationRules", "notificationEndpoints"');
    // A permission names a whole type: InfluxDB's per-resource `id` is refused, not ignored.
    const one = await refused(CREATE, 400, () =>
      operator.postAuthorizations({
        body: {
          orgID: ORG_A,
          permissions: [{ action: 'read', resource: { type: 'tasks', orgID: ORG_A, id: 'x' } }],
        },
      }),
    );
    expect(one.code).toBe('invalid');
    expect(one.message).toContain('permissions.0.resource');
    expect(one.message).toContain('id');
  });

  it('lists every org for the operator and its own org for an org token, with no filter', async () => {
    const orgToken = await conforming(CREATE, () =>
      operator.postAuthorizations({
        body: { orgID: ORG_A, permissions: cliPermissions(ORG_A, { authorizations: ['read'] }) },
      }),
    );
    const all = await conforming(LIST, () => operator.getAuthorizations());
    expect(new Set(all.authorizations?.map((a) => a.orgID))).toEqual(new Set([ORG_A, ORG_B]));
    expect(all.authorizations?.every((a) => a.token === undefined)).toBe(true);
    expect(all.links?.self).toBe('/api/v2/authorizations?limit=100');

    const own = await conforming(LIST, () => clientOf(orgToken.token ?? '').getAuthorizations());
    expect(own.authorizations?.length).toBeGreaterThan(0);
    expect(own.authorizations?.every((a) => a.orgID === ORG_A)).toBe(true);
    expect(own.authorizations?.map((a) => a.id)).toContain(orgToken.id);

    const elsewhere = await refused(LIST, 403, () =>
      clientOf(orgToken.token ?? '').getAuthorizations({ orgID: ORG_B }),
    );
    expect(elsewhere).toEqual({ code: 'forbidden', message: 'orgID does not match the caller' });
  });

  it('honours orgID, org, userID, user and token as filters', async () => {
    const alice = await conforming(CREATE, () =>
      operator.postAuthorizations({
        body: { orgID: ORG_B, userID: 'alice', permissions: cliPermissions(ORG_B, { tasks: ['read'] }) },
      }),
    );
    expect(alice.userID).toBe('alice');

    const byOrgID = await conforming(LIST, () => operator.getAuthorizations({ orgID: ORG_B }));
    const byOrg = await conforming(LIST, () => operator.getAuthorizations({ org: ORG_B }));
    expect(byOrgID.authorizations?.every((a) => a.orgID === ORG_B)).toBe(true);
    expect(byOrg.authorizations?.map((a) => a.id)).toEqual(byOrgID.authorizations?.map((a) => a.id));

    const byUserID = await conforming(LIST, () => operator.getAuthorizations({ userID: 'alice' }));
    expect(byUserID.authorizations?.map((a) => a.id)).toEqual([alice.id]);
    const byUser = await conforming(LIST, () => operator.getAuthorizations({ user: 'alice', orgID: ORG_B }));
    expect(byUser.authorizations?.map((a) => a.id)).toEqual([alice.id]);
    const nobody = await conforming(LIST, () => operator.getAuthorizations({ user: 'bob' }));
    expect(nobody.authorizations).toEqual([]);
    const disagreeing = await conforming(LIST, () =>
      operator.getAuthorizations({ user: 'alice', userID: 'bob' }),
    );
    expect(disagreeing.authorizations).toEqual([]);

    const found = await raw(LIST, OPERATOR, `/api/v2/authorizations?token=${alice.token}`);
    expect(found.body.authorizations.map((a) => a.id)).toEqual([alice.id]);
    // The token is never echoed into the links.
    expect(JSON.stringify(found.body)).not.toContain(alice.token);
    const wrongSecret = `${alice.id}.${'A'.repeat(43)}`;
    expect(
      (await raw(LIST, OPERATOR, `/api/v2/authorizations?token=${wrongSecret}`)).body.authorizations,
    ).toEqual([]);
    const orgA = await conforming(CREATE, () =>
      operator.postAuthorizations({
        body: { orgID: ORG_A, permissions: cliPermissions(ORG_A, { authorizations: ['read'] }) },
      }),
    );
    // Another org's token is not revealed to an org token.
    const hidden = await raw(LIST, orgA.token ?? '', `/api/v2/authorizations?token=${alice.token}`);
    expect(hidden.body.authorizations).toEqual([]);

    const bad = await refused(LIST, 400, () => operator.getAuthorizations({ orgID: ORG_A, org: ORG_B }));
    expect(bad).toEqual({
      code: 'invalid',
      message: 'orgID and org name different orgs: give one, or the same ID in both',
    });
  });

  it('reads, deactivates (as `influx auth inactive`), reactivates and deletes a token', async () => {
    const created = await conforming(CREATE, () =>
      operator.postAuthorizations({
        body: { orgID: ORG_A, permissions: cliPermissions(ORG_A, { tasks: ['read'] }) },
      }),
    );
    const id = created.id ?? '';
    const read = await conforming(ONE, () => operator.getAuthorizationsID({ authID: id }));
    expect(read).toMatchObject({ id, orgID: ORG_A, status: 'active' });
    expect(read.token).toBeUndefined();

    const off = await conforming(PATCH, () =>
      operator.patchAuthorizationsID({ authID: id, body: { status: 'inactive' } }),
    );
    expect(off.status).toBe('inactive');
    expect((await api(created.token ?? '', 'GET', `/api/v2/tasks?orgID=${ORG_A}`)).status).toBe(401);
    const on = await conforming(PATCH, () =>
      operator.patchAuthorizationsID({ authID: id, body: { status: 'active', description: 'back' } }),
    );
    expect(on).toMatchObject({ status: 'active', description: 'back' });

    const invalid = await refused(PATCH, 400, () => operator.patchAuthorizationsID({ authID: id, body: {} }));
    expect(invalid.code).toBe('invalid');

    await conforming(DELETE, () => operator.deleteAuthorizationsID({ authID: id }));
    const gone = await refused(ONE, 404, () => operator.getAuthorizationsID({ authID: id }));
    expect(gone).toEqual({ code: 'not found', message: 'authorization not found' });
    await refused(DELETE, 404, () => operator.deleteAuthorizationsID({ authID: id }));
  });

  it('checked every answer the client received against the contract', () => {
    expect({ checked, rawChecked }).toEqual({ checked: answers.length, rawChecked: 3 });
  });
});
