import { type DynamoDBClient, GetItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { z } from 'zod';
import { toErrorBody } from '../../lib/errors';
import { ATTR, dueShardKeys, INDEX, taskKey, taskOrgsKey } from '../../lib/store/keys';
import { createTaskStore, type TaskStore } from '../../lib/store/task-store';
import { defineSystem } from '../../lib/systems/system';
import { createTaskService, OPERATOR } from '../../lib/task/task-service';
import { type Backend, backends, createTestTable, describeEach, dynamoClient } from '../support/emulators';

const alpha = defineSystem({ type: 'alpha', metadata: z.strictObject({ url: z.string().url() }) });
const beta = defineSystem({ type: 'beta', metadata: z.strictObject({ level: z.number() }) });
const gamma = defineSystem({ type: 'gamma', metadata: z.strictObject({ level: z.number() }) });

describeEach(backends())('task store on $name', ({ start }) => {
  let backend: Backend;
  let client: DynamoDBClient;
  let tableName: string;
  let store: TaskStore;
  let clock = Date.parse('2026-05-01T12:00:00Z');
  const service = () => createTaskService({ tasks: store, now: () => clock });

  const rawItem = async (id: string) => {
    const out = await client.send(
      new GetItemCommand({ TableName: tableName, Key: marshall(taskKey(id)), ConsistentRead: true }),
    );
    return JSON.stringify(out.Item);
  };

  beforeAll(async () => {
    backend = await start();
    client = dynamoClient(backend.dynamoEndpoint);
    tableName = await createTestTable(client);
    store = createTaskStore({ client, tableName, dueShards: 4 });
  });
  afterAll(async () => {
    client.destroy();
    await backend.stop();
  });

  it('creates conditionally and reads back the whole task', async () => {
    const tasks = service().forSystem(alpha);
    const task = await tasks.create(OPERATOR, {
      orgID: 'org-a',
      name: 'probe',
      every: '5m',
      concurrency: 2,
      metadata: { url: 'https://example.com' },
    });
    expect(task).toMatchObject({
      type: 'alpha',
      status: 'active',
      version: 1,
      nextRunAt: '2026-05-01T12:05:00.000Z',
    });
    expect(await store.get(task.id)).toEqual(task);
    // The same id again loses the conditional put instead of overwriting.
    expect(await store.create({ ...task, name: 'overwrite' })).toBe(false);
    expect((await store.get(task.id))?.name).toBe('probe');
  });

  it('scopes every operation by type: another system sees not found', async () => {
    const tasksA = service().forSystem(alpha);
    const tasksB = service().forSystem(beta);
    const task = await tasksA.create(OPERATOR, {
      orgID: 'org-a',
      name: 'a',
      every: '1m',
      metadata: { url: 'https://x.io' },
    });
    const before = await rawItem(task.id);

    await expect(tasksB.get(OPERATOR, task.id)).rejects.toMatchObject({ code: 'not found' });
    await expect(tasksB.update(OPERATOR, task.id, { name: 'hijack' })).rejects.toMatchObject({
      code: 'not found',
    });
    await expect(tasksB.delete(OPERATOR, task.id)).rejects.toMatchObject({ code: 'not found' });
    expect(
      (await tasksB.list(OPERATOR, { orgID: 'org-a', limit: 100 })).tasks.map((t) => t.id),
    ).not.toContain(task.id);
    // The store-level delete is also conditional on type.
    expect(await store.delete(task.id, 'beta')).toBe(false);
    expect(await rawItem(task.id)).toBe(before);
  });

  it('scopes by org for org callers', async () => {
    const tasks = service().forSystem(alpha);
    const task = await tasks.create(OPERATOR, {
      orgID: 'org-x',
      name: 'x',
      every: '1m',
      metadata: { url: 'https://x.io' },
    });
    await expect(tasks.get({ orgID: 'org-y' }, task.id)).rejects.toMatchObject({ code: 'not found' });
    await expect(
      tasks.create(
        { orgID: 'org-y' },
        { orgID: 'org-x', name: 'x', every: '1m', metadata: { url: 'https://x.io' } },
      ),
    ).rejects.toMatchObject({
      code: 'forbidden',
    });
    expect((await tasks.get({ orgID: 'org-x' }, task.id)).id).toBe(task.id);
  });

  it('validates metadata with the system schema and stores nothing on failure', async () => {
    const tasks = service().forSystem(beta);
    const error = await tasks
      .create(OPERATOR, { orgID: 'org-m', name: 'bad', every: '1m', metadata: { level: 'high' } })
      .catch((e: unknown) => e);
    expect(toErrorBody(error).body).toMatchObject({
      code: 'invalid',
      message: expect.stringMatching(/^invalid metadata: level: /),
    });
    expect((await tasks.list(OPERATOR, { orgID: 'org-m', limit: 10 })).tasks).toHaveLength(0);
  });

  it('updates with optimistic versioning and leaves the item byte-for-byte unchanged on a lost race', async () => {
    const tasks = service().forSystem(alpha);
    const task = await tasks.create(OPERATOR, {
      orgID: 'org-v',
      name: 'v',
      every: '1m',
      metadata: { url: 'https://x.io' },
    });
    const updated = await tasks.update(OPERATOR, task.id, { name: 'v2', every: '10m' });
    expect(updated).toMatchObject({ name: 'v2', every: '10m', version: 2 });
    const before = await rawItem(task.id);

    // A stale version is a conflict at the store...
    expect(await store.replaceDefinition({ ...updated, name: 'stale' }, 1)).toBeUndefined();
    // ...and through the service with a pinned version (If-Match).
    await expect(tasks.update(OPERATOR, task.id, { name: 'stale' }, 1)).rejects.toMatchObject({
      code: 'conflict',
    });
    // A refused validation changes nothing either.
    await expect(tasks.update(OPERATOR, task.id, { every: '0s' })).rejects.toMatchObject({ code: 'invalid' });
    await expect(tasks.update(OPERATOR, task.id, { cron: 'not a cron' })).rejects.toMatchObject({
      code: 'invalid',
    });
    expect(await rawItem(task.id)).toBe(before);
  });

  it('keeps run bookkeeping when the definition is replaced', async () => {
    const tasks = service().forSystem(alpha);
    const task = await tasks.create(OPERATOR, {
      orgID: 'org-b',
      name: 'b',
      every: '1m',
      metadata: { url: 'https://x.io' },
    });
    await store.recordCompletion(task.id, {
      scheduledFor: '2026-05-01T12:01:00.000Z',
      finishedAt: '2026-05-01T12:01:02.000Z',
      status: 'success',
    });
    const updated = await tasks.update(OPERATOR, task.id, { description: 'now documented' });
    expect(updated).toMatchObject({ latestCompleted: '2026-05-01T12:01:00.000Z', lastRunStatus: 'success' });
  });

  it('moves completion bookkeeping forward only', async () => {
    const tasks = service().forSystem(alpha);
    const task = await tasks.create(OPERATOR, {
      orgID: 'org-f',
      name: 'f',
      every: '1m',
      metadata: { url: 'https://x.io' },
    });
    const newer = { scheduledFor: '2026-05-01T12:05:00.000Z', finishedAt: '2026-05-01T12:05:01.000Z' };
    const older = { scheduledFor: '2026-05-01T12:04:00.000Z', finishedAt: '2026-05-01T12:05:09.000Z' };
    await store.recordCompletion(task.id, { ...newer, status: 'failed', error: 'boom' });
    await store.recordCompletion(task.id, { ...older, status: 'success' });
    expect(await store.get(task.id)).toMatchObject({
      latestCompleted: newer.scheduledFor,
      lastRunStatus: 'failed',
      lastRunError: 'boom',
      latestFailure: newer.scheduledFor,
      // The older success still advances latestSuccess, which had never been set.
      latestSuccess: older.scheduledFor,
    });
  });

  it('pages the byOrgType index with after and limit, with filters', async () => {
    const tasks = service().forSystem(alpha);
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      const t = await tasks.create(OPERATOR, {
        orgID: 'org-p',
        name: i % 2 ? 'odd' : 'even',
        every: '1m',
        status: i === 6 ? 'inactive' : 'active',
        ...(i === 3 ? { ownerID: 'user-3' } : {}),
        metadata: { url: 'https://x.io' },
      });
      ids.push(t.id);
    }
    const page1 = await tasks.list(OPERATOR, { orgID: 'org-p', limit: 3 });
    expect(page1.tasks.map((t) => t.id)).toEqual(ids.slice(0, 3));
    expect(page1.more).toBe(true);
    const page3 = await tasks.list(OPERATOR, { orgID: 'org-p', limit: 3, after: ids[5] });
    expect(page3).toEqual({ tasks: [expect.objectContaining({ id: ids[6] })], more: false });

    const odd = await tasks.list(OPERATOR, { orgID: 'org-p', limit: 2, name: 'odd' });
    expect(odd.tasks.map((t) => t.name)).toEqual(['odd', 'odd']);
    expect(odd.more).toBe(true);
    const inactive = await tasks.list(OPERATOR, { orgID: 'org-p', limit: 10, status: 'inactive' });
    expect(inactive.tasks.map((t) => t.id)).toEqual([ids[6]]);
    const owned = await tasks.list(OPERATOR, { orgID: 'org-p', limit: 10, ownerID: 'user-3' });
    expect(owned).toEqual({ tasks: [expect.objectContaining({ id: ids[3] })], more: false });
  });

  it('keeps the due index sparse: only active tasks, keyed by next run time', async () => {
    const tasks = service().forSystem(alpha);
    const active = await tasks.create(OPERATOR, {
      orgID: 'org-d',
      name: 'due',
      every: '1m',
      metadata: { url: 'https://x.io' },
    });
    const inactive = await tasks.create(OPERATOR, {
      orgID: 'org-d',
      name: 'off',
      every: '1m',
      status: 'inactive',
      metadata: { url: 'https://x.io' },
    });

    const dueIDs = async (untilMs: number) => {
      const found: string[] = [];
      for (const shard of dueShardKeys(4)) {
        let cursor: Record<string, unknown> | undefined;
        do {
          const page = await store.queryDue(shard, untilMs, cursor);
          found.push(...page.tasks.map((t) => t.id));
          cursor = page.cursor;
        } while (cursor);
      }
      return found;
    };

    const horizon = Date.parse(active.nextRunAt ?? '');
    expect(await dueIDs(horizon)).toContain(active.id);
    expect(await dueIDs(horizon - 1)).not.toContain(active.id);
    expect(await dueIDs(horizon + 86_400_000)).not.toContain(inactive.id);

    await tasks.update(OPERATOR, active.id, { status: 'inactive' });
    expect(await dueIDs(horizon + 86_400_000)).not.toContain(active.id);
    const raw = await client.send(
      new GetItemCommand({ TableName: tableName, Key: marshall(taskKey(active.id)), ConsistentRead: true }),
    );
    expect(raw.Item?.[ATTR.dueAt]).toBeUndefined();

    await tasks.update(OPERATOR, inactive.id, { status: 'active' });
    expect(await dueIDs(horizon + 86_400_000)).toContain(inactive.id);
  });

  it('advances the schedule only against the version it read', async () => {
    const tasks = service().forSystem(alpha);
    const task = await tasks.create(OPERATOR, {
      orgID: 'org-s',
      name: 's',
      every: '1m',
      metadata: { url: 'https://x.io' },
    });
    const change = { latestScheduled: '2026-05-01T12:01:00.000Z', nextRunAt: '2026-05-01T12:02:00.000Z' };
    expect(await store.advanceSchedule(task.id, task.version, change)).toBe(true);
    expect(await store.get(task.id)).toMatchObject({ ...change, version: 2, name: 's' });
    expect(await store.advanceSchedule(task.id, task.version, change)).toBe(false);
    expect((await store.get(task.id))?.version).toBe(2);

    const out = await client.send(
      new QueryCommand({
        TableName: tableName,
        IndexName: INDEX.due,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': ATTR.duePk },
        ExpressionAttributeValues: marshall({ ':pk': (await rawDueShard(task.id)) ?? '' }),
      }),
    );
    const indexed = out.Items?.find((item) => item.id?.S === task.id);
    // The due index carries only the scheduling fields, so completion bookkeeping never rewrites it.
    expect(indexed?.latestCompleted).toBeUndefined();
    expect(indexed?.metadata).toBeUndefined();
    expect(indexed?.[ATTR.dueAt]?.N).toBe(String(Date.parse(change.nextRunAt)));
  });

  async function rawDueShard(id: string) {
    const out = await client.send(
      new GetItemCommand({ TableName: tableName, Key: marshall(taskKey(id)), ConsistentRead: true }),
    );
    return out.Item?.[ATTR.duePk]?.S;
  }

  it('deletes and then answers not found', async () => {
    const tasks = service().forSystem(alpha);
    const task = await tasks.create(OPERATOR, {
      orgID: 'org-z',
      name: 'z',
      every: '1m',
      metadata: { url: 'https://x.io' },
    });
    await tasks.delete(OPERATOR, task.id);
    await expect(tasks.get(OPERATOR, task.id)).rejects.toMatchObject({ code: 'not found' });
    await expect(tasks.delete(OPERATOR, task.id)).rejects.toMatchObject({ code: 'not found' });
  });

  it('retries an unpinned update that races the scheduler, without losing either write', async () => {
    clock += 1000;
    const tasks = service().forSystem(alpha);
    const task = await tasks.create(OPERATOR, {
      orgID: 'org-r',
      name: 'r',
      every: '1m',
      metadata: { url: 'https://x.io' },
    });
    // The scheduler advances between the service's read and its write.
    const racing = createTaskService({
      now: () => clock,
      tasks: {
        ...store,
        async replaceDefinition(next, expectedVersion) {
          if (expectedVersion === task.version) {
            await store.advanceSchedule(task.id, task.version, {
              latestScheduled: '2026-05-01T12:01:00.000Z',
              nextRunAt: '2026-05-01T12:02:00.000Z',
            });
          }
          return store.replaceDefinition(next, expectedVersion);
        },
      },
    }).forSystem(alpha);
    const updated = await racing.update(OPERATOR, task.id, { description: 'racy' });
    expect(updated).toMatchObject({
      description: 'racy',
      version: 3,
      latestScheduled: '2026-05-01T12:01:00.000Z',
    });
  });

  it("lists every org's tasks of a type for the operator, merged by id and paged, with no Scan", async () => {
    const tasks = service().forSystem(gamma);
    const ids: string[] = [];
    for (const orgID of ['org-g-b', 'org-g-a', 'org-g-c', 'org-g-b', 'org-g-a', 'org-g-c', 'org-g-b']) {
      ids.push(
        (await tasks.create(OPERATOR, { orgID, name: orgID, every: '1h', metadata: { level: 1 } })).id,
      );
    }
    // Another type's tasks in the same orgs stay out of gamma's list.
    await service()
      .forSystem(beta)
      .create(OPERATOR, { orgID: 'org-g-a', name: 'other type', every: '1h', metadata: { level: 2 } });
    const directory = await client.send(
      new GetItemCommand({
        TableName: tableName,
        Key: marshall(taskOrgsKey('gamma')),
        ConsistentRead: true,
      }),
    );
    expect(directory.Item?.orgIDs?.SS?.sort()).toEqual(['org-g-a', 'org-g-b', 'org-g-c']);

    const commands: string[] = [];
    const watched = dynamoClient(backend.dynamoEndpoint);
    watched.middlewareStack.add((next, context) => (args) => {
      commands.push(context.commandName ?? '');
      return next(args);
    });
    const operatorView = createTaskService({
      tasks: createTaskStore({ client: watched, tableName, dueShards: 4 }),
    }).forSystem(gamma);
    const seen: string[] = [];
    let after: string | undefined;
    let pages = 0;
    for (;;) {
      const page = await operatorView.list(OPERATOR, { limit: 2, after });
      expect(page.tasks.length).toBeLessThanOrEqual(2);
      seen.push(...page.tasks.map((t) => t.id));
      pages += 1;
      after = page.tasks.at(-1)?.id;
      if (!page.more) break;
    }
    watched.destroy();
    expect(pages).toBe(4);
    // Every task exactly once, oldest first (ULIDs sort by creation across orgs).
    expect(seen).toEqual([...ids].sort());
    expect(new Set(commands)).toEqual(new Set(['GetItemCommand', 'QueryCommand']));

    // An org token still lists its own org alone, and may not name another.
    const own = await tasks.list({ orgID: 'org-g-b' }, { limit: 10 });
    expect(own.tasks.map((t) => t.orgID)).toEqual(['org-g-b', 'org-g-b', 'org-g-b']);
    await expect(tasks.list({ orgID: 'org-g-b' }, { orgID: 'org-g-a', limit: 10 })).rejects.toMatchObject({
      code: 'forbidden',
    });
    // Filters apply across orgs too.
    const named = await tasks.list(OPERATOR, { limit: 10, name: 'org-g-c' });
    expect(named.tasks.map((t) => t.orgID)).toEqual(['org-g-c', 'org-g-c']);
  });
});
