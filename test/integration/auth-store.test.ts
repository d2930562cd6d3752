import { type DynamoDBClient, GetItemCommand, PutItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import {
  CreateSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { ulid } from 'ulid';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { z } from 'zod';
import { createAuthorizer, DENIED } from '../../lib/auth/authorizer';
import { createKmsSecretBox } from '../../lib/auth/kms-secret-box';
import { operatorDigestFrom } from '../../lib/auth/operator';
import { createOrgQuota } from '../../lib/auth/org-quota';
import { type AuthStore, createAuthStore } from '../../lib/auth/store';
import { toErrorBody } from '../../lib/errors';
import { declareResource, recorded } from '../../lib/observability/aws-calls';
import { authKey, orgAuthorizationsPk, orgQuotaKey } from '../../lib/store/keys';
import { createTaskStore } from '../../lib/store/task-store';
import { defineSystem } from '../../lib/systems/system';
import { createTaskService, OPERATOR } from '../../lib/task/task-service';
import { attributed } from '../support/attribution';
import { storedAuthorization } from '../support/auth';
import {
  type Backend,
  backends,
  createTestTable,
  describeEach,
  dynamoClient,
  motoUrl,
  raceSafeBackends,
  TEST_CLIENT_CONFIG,
} from '../support/emulators';

describeEach(backends())('token store on $name', ({ start }) => {
  let backend: Backend;
  let client: DynamoDBClient;
  let tableName: string;
  let store: AuthStore;

  beforeAll(async () => {
    backend = await start();
    client = dynamoClient(backend.dynamoEndpoint);
    tableName = await createTestTable(client);
    // The authorizations API's store; the authorizer below reads through its own.
    store = attributed('authorizations-api', createAuthStore({ client, tableName }));
  });
  afterAll(async () => {
    client.destroy();
    await backend.stop();
  });

  it('keeps only the hash of a token, under AUTH#<id>', async () => {
    const { authorization, token } = storedAuthorization({ orgID: 'org-keys' });
    expect(await store.create(authorization)).toBe(true);
    expect(await store.create(authorization)).toBe(false);
    const out = await client.send(
      new GetItemCommand({ TableName: tableName, Key: marshall(authKey(authorization.id)) }),
    );
    const raw = JSON.stringify(out.Item);
    expect(raw).not.toContain(token.split('.')[1]);
    expect(unmarshall(out.Item ?? {})).toMatchObject({
      GSI1PK: 'org-keys#~authorization',
      tokenHash: authorization.tokenHash,
    });
    expect(await store.get(authorization.id)).toEqual(authorization);
  });

  it("lists one org's tokens in pages, and never another org's", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const { authorization } = storedAuthorization({ orgID: 'org-list' });
      await store.create(authorization);
      ids.push(authorization.id);
    }
    await store.create(storedAuthorization({ orgID: 'org-list-other' }).authorization);
    const first = await store.list({ orgID: 'org-list', limit: 2 });
    expect(first.more).toBe(true);
    const second = await store.list({ orgID: 'org-list', limit: 2, after: first.authorizations.at(-1)?.id });
    expect(second.more).toBe(false);
    expect([...first.authorizations, ...second.authorizations].map((a) => a.id)).toEqual(ids.sort());
  });

  it("lists every org's tokens without an orgID, merged by id and paged, with no Scan", async () => {
    const ids: string[] = [];
    for (const orgID of ['org-all-b', 'org-all-a', 'org-all-b', 'org-all-c']) {
      const { authorization } = storedAuthorization({ orgID });
      await store.create(authorization);
      ids.push(authorization.id);
    }
    const commands: string[] = [];
    const watched = dynamoClient(backend.dynamoEndpoint);
    watched.middlewareStack.add((next, context) => (args) => {
      commands.push(context.commandName ?? '');
      return next(args);
    });
    const operatorView = createAuthStore({ client: watched, tableName });
    const seen: string[] = [];
    let after: string | undefined;
    let pages = 0;
    for (;;) {
      const page = await operatorView.list({ limit: 2, after });
      seen.push(...page.authorizations.map((a) => a.id));
      pages += 1;
      after = page.authorizations.at(-1)?.id;
      if (!page.more) break;
    }
    expect(pages).toBeGreaterThan(1);
    expect(seen).toEqual([...seen].sort());
    expect(new Set(seen).size).toBe(seen.length);
    for (const id of ids) expect(seen).toContain(id);
    expect(new Set(commands)).toEqual(new Set(['GetItemCommand', 'QueryCommand']));
    watched.destroy();
  });

  it('finds a token stored before the org directory once its org lists its tokens', async () => {
    const { authorization } = storedAuthorization({ orgID: 'org-before-directory' });
    // As the token store wrote it before: the item alone, no directory entry.
    await client.send(
      new PutItemCommand({
        TableName: tableName,
        Item: marshall({
          ...authKey(authorization.id),
          ...authorization,
          GSI1PK: orgAuthorizationsPk(authorization.orgID),
          GSI1SK: authorization.id,
        }),
      }),
    );
    const everyOrg = async () => (await store.list({ limit: 500 })).authorizations.map((a) => a.id);
    expect(await everyOrg()).not.toContain(authorization.id);
    const own = await store.list({ orgID: 'org-before-directory', limit: 10 });
    expect(own.authorizations.map((a) => a.id)).toEqual([authorization.id]);
    expect(await everyOrg()).toContain(authorization.id);
  });

  it('filters by userID in an org and across orgs, reading on past thinned pages', async () => {
    const alice: string[] = [];
    for (let i = 0; i < 5; i++) {
      const { authorization } = storedAuthorization({
        orgID: 'org-users',
        ...(i % 2 ? {} : { userID: 'alice' }),
      });
      await store.create(authorization);
      if (i % 2 === 0) alice.push(authorization.id);
    }
    const first = await store.list({ orgID: 'org-users', userID: 'alice', limit: 2 });
    expect(first).toMatchObject({ more: true });
    expect(first.authorizations.map((a) => a.id)).toEqual(alice.slice(0, 2));
    const rest = await store.list({ orgID: 'org-users', userID: 'alice', limit: 2, after: alice[1] });
    expect(rest.authorizations.map((a) => a.id)).toEqual(alice.slice(2));
    expect(rest.more).toBe(false);
    const everyOrg = await store.list({ userID: 'alice', limit: 100 });
    expect(everyOrg.authorizations.map((a) => a.userID)).toEqual(alice.map(() => 'alice'));
    expect(await store.get(alice[0] ?? '')).toMatchObject({ userID: 'alice' });
  });

  it('updates status and description, and deletes, only tokens that exist', async () => {
    const { authorization } = storedAuthorization();
    await store.create(authorization);
    const updated = await store.update(authorization.id, {
      status: 'inactive',
      description: 'paused',
      updatedAt: '2026-02-02T00:00:00.000Z',
    });
    expect(updated).toMatchObject({
      status: 'inactive',
      description: 'paused',
      permissions: authorization.permissions,
    });
    expect(
      await store.update('01jmissingmissingmissing00', { status: 'active', updatedAt: 'x' }),
    ).toBeUndefined();
    expect(await store.delete(authorization.id)).toBe(true);
    expect(await store.delete(authorization.id)).toBe(false);
    expect(await store.get(authorization.id)).toBeUndefined();
  });

  it('backs the authorizer: active tokens pass, a deactivated one stops at once', async () => {
    const authorizer = attributed(
      'authorizer',
      createAuthorizer({
        store: createAuthStore({ client, tableName }),
        operatorDigest: async () => undefined,
      }),
    );
    const { authorization, token } = storedAuthorization({ orgID: 'org-live' });
    await store.create(authorization);
    expect(await authorizer.authorize(`Token ${token}`)).toMatchObject({
      orgID: 'org-live',
      tokenID: authorization.id,
    });
    await store.update(authorization.id, { status: 'inactive', updatedAt: 'now' });
    expect(await authorizer.authorize(`Token ${token}`)).toEqual(DENIED);
  });

  it("reads a stored token's legacy notifications permission as rules and endpoints", async () => {
    const authorizer = createAuthorizer({
      store: createAuthStore({ client, tableName }),
      operatorDigest: async () => undefined,
    });
    const { authorization, token } = storedAuthorization({
      orgID: 'org-legacy',
      permissions: [{ action: 'read', type: 'notifications' }],
    });
    await store.create(authorization);
    expect((await store.get(authorization.id))?.permissions).toEqual([
      { action: 'read', type: 'notifications' },
    ]);
    expect((await authorizer.authorize(`Token ${token}`)).permissions).toBe(
      'read:notificationEndpoints,read:notificationRules',
    );
  });
});

const probe = defineSystem({ type: 'probe', metadata: z.strictObject({}) });

describeEach(raceSafeBackends())('org task quota on $name', ({ start }) => {
  let backend: Backend;
  let client: DynamoDBClient;
  let tableName: string;

  beforeAll(async () => {
    backend = await start();
    client = dynamoClient(backend.dynamoEndpoint);
    tableName = await createTestTable(client);
  });
  afterAll(async () => {
    client.destroy();
    await backend.stop();
  });

  const service = (limit: number) =>
    attributed(
      'tasks-api',
      createTaskService({
        tasks: createTaskStore({ client, tableName, dueShards: 2 }),
        quota: createOrgQuota({ client, tableName, limit }),
      }).forSystem(probe),
    );
  const definition = (orgID: string, name: string) => ({ orgID, name, every: '1h', metadata: {} });
  const counted = async (orgID: string) => {
    const out = await client.send(
      new GetItemCommand({ TableName: tableName, Key: marshall(orgQuotaKey(orgID)), ConsistentRead: true }),
    );
    return out.Item ? Number(unmarshall(out.Item).tasks) : 0;
  };

  it('refuses the task past the limit with 403, per org, and frees a slot on delete', async () => {
    const tasks = service(2);
    const first = await tasks.create(OPERATOR, definition('org-q', 'one'));
    await tasks.create(OPERATOR, definition('org-q', 'two'));
    const refused = await tasks.create(OPERATOR, definition('org-q', 'three')).catch((e: unknown) => e);
    expect(toErrorBody(refused).body).toEqual({
      code: 'forbidden',
      message: 'org has reached its limit of 2 tasks',
    });
    // Another org has its own count.
    await tasks.create(OPERATOR, definition('org-q2', 'one'));
    await tasks.delete(OPERATOR, first.id);
    expect(await counted('org-q')).toBe(1);
    await tasks.create(OPERATOR, definition('org-q', 'three'));
    expect(await counted('org-q')).toBe(2);
  });

  it('gives the slot back when a create is refused after taking it', async () => {
    const tasks = service(5);
    const refused = await tasks
      .create(OPERATOR, { ...definition('org-r', 'bad'), every: 'soon' })
      .catch((e) => e);
    expect(toErrorBody(refused).status).toBe(400);
    expect(await counted('org-r')).toBe(0);
  });

  it('never lets racing creates past the limit', async () => {
    const tasks = service(5);
    const results = await Promise.allSettled(
      Array.from({ length: 12 }, (_, i) => tasks.create(OPERATOR, definition('org-race', `t${i}`))),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(5);
    expect(await counted('org-race')).toBe(5);
    const scan = await client.send(new ScanCommand({ TableName: tableName }));
    const stored = (scan.Items ?? [])
      .map((i) => unmarshall(i))
      .filter((i) => i.orgID === 'org-race' && i.SK === 'TASK');
    expect(stored).toHaveLength(5);
  });
});

// KMS and Secrets Manager have no npm emulator; moto runs both when it is available.
const moto = motoUrl();
describeEach([{ name: 'moto', available: moto !== undefined, endpoint: moto ?? '' }])(
  'AWS secrets on $name',
  ({ endpoint }) => {
    it('seals and opens with KMS envelope encryption across containers', async () => {
      const kms = recorded(new KMSClient({ ...TEST_CLIENT_CONFIG, endpoint }));
      const key = await kms.send(new CreateKeyCommand({ Description: 'rota test' }));
      const keyArn = key.KeyMetadata?.Arn ?? '';
      declareResource('secretsKey', keyArn);
      // An API function seals, the executor opens: each with its own role.
      const sealer = attributed('tasks-api', createKmsSecretBox({ client: kms, keyArn }));
      const sealed = await sealer.seal('Bearer from-kms');
      expect(sealed).not.toContain('from-kms');
      const executor = attributed(
        'executor',
        createKmsSecretBox({ client: recorded(new KMSClient({ ...TEST_CLIENT_CONFIG, endpoint })), keyArn }),
      );
      expect(await executor.open(sealed)).toBe('Bearer from-kms');
    });

    it('reads the operator token from Secrets Manager and follows a new value', async () => {
      const sm = recorded(new SecretsManagerClient({ ...TEST_CLIENT_CONFIG, endpoint }));
      const secret = await sm.send(
        new CreateSecretCommand({
          Name: `rota-operator-${ulid()}`,
          SecretString: 'first-operator-token-0123',
        }),
      );
      declareResource('operatorSecret', secret.ARN ?? '');
      let now = 0;
      const readSecret = async (id: string) =>
        (await sm.send(new GetSecretValueCommand({ SecretId: id }))).SecretString ?? '';
      const digest = operatorDigestFrom(
        { ROTA_BOOTSTRAP_TOKEN_SECRET_ARN: secret.ARN, ROTA_BOOTSTRAP_TOKEN_CACHE_SECONDS: 60 },
        readSecret,
        () => now,
      );
      const authorizer = attributed(
        'authorizer',
        createAuthorizer({
          store: { get: async () => undefined } as unknown as AuthStore,
          operatorDigest: digest,
        }),
      );
      expect((await authorizer.authorize('Token first-operator-token-0123')).tokenID).toBe('operator');
      await sm.send(
        new PutSecretValueCommand({ SecretId: secret.ARN, SecretString: 'second-operator-token-0123' }),
      );
      now = 61_000;
      expect(await authorizer.authorize('Token first-operator-token-0123')).toEqual(DENIED);
      expect((await authorizer.authorize('Token second-operator-token-0123')).tokenID).toBe('operator');
    });
  },
);
