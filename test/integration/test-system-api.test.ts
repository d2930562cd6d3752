import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { functionEntry } from '../../infra/bundling';
import { rotaFunctions } from '../../infra/function-specs';
import { createAuthorizer } from '../../lib/auth/authorizer';
import { sha256 } from '../../lib/auth/token';
import { createRota, type Rota } from '../../lib/composition/root';
import { ROTA_CONFIG_SCHEMA } from '../../lib/config';
import { buildOpenApi } from '../../lib/http/openapi';
import { systemApiDocs } from '../../lib/systems/api-docs';
import type { SystemApiHandler } from '../../lib/systems/api-host';
import { authStore } from '../../lib/systems/authorizations/parts';
import { SYSTEMS } from '../../lib/systems/registry';
import { createHttpAdapter } from '../../local/http-adapter';
import { lambdaContext } from '../../local/lambda-context';
import { apiMounts } from '../../local/mounts';
import { apiClient, createToken } from '../support/auth';
import {
  type Backend,
  backends,
  createTestQueue,
  createTestTable,
  dynamoClient,
  sqsClient,
} from '../support/emulators';
import { BACKUPS_BASE_PATH } from '../support/systems/backups';
import { TEST_SYSTEMS } from '../support/systems/registry';

const OPERATOR = 'operator-token-for-the-test-system';

type SqsHandler = (event: SQSEvent, context: unknown) => Promise<SQSBatchResponse>;

/** The handler of a function's entry as the construct generates it for `TEST_SYSTEMS`, started as a cold start would. */
async function entryHandler<H>(name: string): Promise<H> {
  const spec = rotaFunctions(TEST_SYSTEMS).find((f) => f.name === name);
  if (!spec) throw new Error(`no function ${name} for the test registry`);
  return ((await import(functionEntry(spec.entry()))) as { handler: H }).handler;
}

/**
 * A fourth system, added as the README says: a folder (test/support/systems/backups)
 * and one registry line. Here every API is served over HTTP by the entry the construct
 * generates for it (behind local mode's adapter and token check), and its runs execute
 * in the executor's generated entry, with its own runner.
 */
describe.each(backends())('a test-only system over HTTP on $name', ({ start }) => {
  let backend: Backend;
  let server: Server;
  let api: ReturnType<typeof apiClient>;
  let url: string;
  let rota: Rota;
  let executor: SqsHandler;
  let backedUp: { bucket: string; runID: string }[];

  beforeAll(async () => {
    // The composition root's clients use the default credential chain, as on Lambda.
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'test');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'test');
    backend = await start();
    const cfg = ROTA_CONFIG_SCHEMA.parse({
      ROTA_TABLE_NAME: await createTestTable(dynamoClient(backend.dynamoEndpoint)),
      ROTA_RUNS_QUEUE_URL: await createTestQueue(sqsClient(backend.sqsEndpoint)),
      ROTA_DYNAMODB_ENDPOINT: backend.dynamoEndpoint,
      ROTA_SQS_ENDPOINT: backend.sqsEndpoint,
    });
    // The authorizer's root; each entry builds its own from the environment, at import.
    rota = createRota(cfg);
    const env = {
      ROTA_TABLE_NAME: cfg.ROTA_TABLE_NAME,
      ROTA_RUNS_QUEUE_URL: cfg.ROTA_RUNS_QUEUE_URL ?? '',
      ROTA_DYNAMODB_ENDPOINT: backend.dynamoEndpoint,
      ROTA_SQS_ENDPOINT: backend.sqsEndpoint,
      ROTA_SECRETS_KEY: 'x',
    };
    for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
    // Each backend's entries read its environment at import: fresh modules, as a cold start.
    vi.resetModules();
    executor = await entryHandler<SqsHandler>('executor');
    // The instance the executor's entry runs the backups system from.
    ({ backedUp } = await import('../support/systems/backups'));
    const handlers = new Map<string, SystemApiHandler>();
    for (const { fn } of apiMounts(TEST_SYSTEMS)) {
      if (fn !== 'meta-api' && !handlers.has(fn)) handlers.set(fn, await entryHandler<SystemApiHandler>(fn));
    }
    const authorizer = createAuthorizer({
      store: rota.get(authStore),
      operatorDigest: async () => sha256(OPERATOR),
    });
    const mounts = apiMounts(TEST_SYSTEMS)
      .filter((m) => m.fn !== 'meta-api')
      .map((m) => ({ ...m, handler: handlers.get(m.fn) as SystemApiHandler }));
    const serve = createHttpAdapter(mounts, {
      authorizer: async (event) => ({
        isAuthorized: true,
        context: await authorizer.authorize(event.headers?.authorization),
      }),
      isPublic: () => false,
    });
    server = createServer((req, res) => void serve(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    api = apiClient(url);
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server?.close(() => resolve()));
    await backend?.stop();
    vi.unstubAllEnvs();
  });

  it('is mounted, and its permission resource is one a token can hold', async () => {
    expect(apiMounts(TEST_SYSTEMS)).toContainEqual({ prefix: BACKUPS_BASE_PATH, fn: 'backups-api' });
    expect(apiMounts()).not.toContainEqual({ prefix: BACKUPS_BASE_PATH, fn: 'backups-api' });
    expect(TEST_SYSTEMS.resources).toContain('backups');
    expect(SYSTEMS.resources).not.toContain('backups');
    const unknown = await api(OPERATOR, 'POST', '/api/v2/authorizations', {
      orgID: 'acme',
      permissions: [{ action: 'read', resource: { type: 'gardens' } }],
    });
    expect(unknown.status).toBe(400);
    // The message lists every valid resource type, the test system's included.
    expect(unknown.body.message).toContain(
      'permissions.0.resource.type: must be one of "tasks", "checks", "notificationRules", "notificationEndpoints", "authorizations", "labels", "backups", "notifications", got "gardens"',
    );
  });

  it('creates, lists, runs and deletes its tasks, each needing the backups permission', async () => {
    const writer = await createToken(url, OPERATOR, 'acme', { backups: ['read', 'write'] });
    const tasksOnly = await createToken(url, OPERATOR, 'acme', { tasks: ['read', 'write'] });
    const body = { orgID: 'acme', name: 'nightly', every: '1h', bucket: 's3://acme', retainDays: 30 };

    const refused = await api(tasksOnly.token, 'POST', BACKUPS_BASE_PATH, body);
    expect(refused.status).toBe(403);
    expect(refused.body).toEqual({ code: 'forbidden', message: 'token lacks write permission on backups' });

    const created = await api(writer.token, 'POST', BACKUPS_BASE_PATH, body);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ orgID: 'acme', name: 'nightly', bucket: 's3://acme' });
    const invalid = await api(writer.token, 'POST', BACKUPS_BASE_PATH, { ...body, retainDays: 0 });
    expect(invalid.status).toBe(400);
    expect(invalid.body.code).toBe('invalid');

    // Type isolation: the user-task API cannot see a backup.
    const asTask = await api(OPERATOR, 'GET', `/api/v2/tasks/${created.body.id}`);
    expect(asTask.status).toBe(404);

    const run = await api(writer.token, 'POST', `${BACKUPS_BASE_PATH}/${created.body.id}/runs`, {});
    expect(run.status).toBe(201);
    const message = {
      taskID: created.body.id,
      runID: run.body.id,
      scheduledFor: run.body.scheduledFor,
      kind: 'manual',
      attempt: 1,
      waits: 0,
    };
    const record = { messageId: 'm-1', body: JSON.stringify(message), attributes: {} };
    const batch = await executor(
      { Records: [record] } as unknown as SQSEvent,
      lambdaContext('rota-executor'),
    );
    expect(batch.batchItemFailures).toEqual([]);
    const finished = await api(
      writer.token,
      'GET',
      `${BACKUPS_BASE_PATH}/${created.body.id}/runs/${run.body.id}`,
    );
    expect(finished.body.status).toBe('success');
    expect(backedUp).toContainEqual({ bucket: 's3://acme', runID: run.body.id });
    const logs = await api(
      writer.token,
      'GET',
      `${BACKUPS_BASE_PATH}/${created.body.id}/runs/${run.body.id}/logs`,
    );
    expect(logs.body.events.map((e: { message: string }) => e.message)).toContain(
      'backed up to s3://acme, kept 30 days',
    );

    const renamed = await api(writer.token, 'PATCH', `${BACKUPS_BASE_PATH}/${created.body.id}`, {
      name: 'weekly',
    });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({ id: created.body.id, name: 'weekly', bucket: 's3://acme' });
    const list = await api(writer.token, 'GET', `${BACKUPS_BASE_PATH}?orgID=acme`);
    expect(list.body.backups.map((b: { id: string }) => b.id)).toEqual([created.body.id]);
    expect((await api(writer.token, 'DELETE', `${BACKUPS_BASE_PATH}/${created.body.id}`)).status).toBe(204);
    expect((await api(writer.token, 'GET', `${BACKUPS_BASE_PATH}?orgID=acme`)).body.backups).toEqual([]);
  });

  it('is documented in the OpenAPI document of its registry, and only there', () => {
    const withBackups = buildOpenApi(systemApiDocs(TEST_SYSTEMS));
    expect(Object.keys(withBackups.paths ?? {})).toEqual(
      expect.arrayContaining([BACKUPS_BASE_PATH, `${BACKUPS_BASE_PATH}/{id}/runs`]),
    );
    expect(withBackups.paths?.[BACKUPS_BASE_PATH]?.post?.responses?.['201']).toMatchObject({
      content: { 'application/json': { schema: { $ref: '#/components/schemas/Backup' } } },
    });
    expect(Object.keys(buildOpenApi(systemApiDocs(SYSTEMS)).paths ?? {})).not.toContain(BACKUPS_BASE_PATH);
  });
});
