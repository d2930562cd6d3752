import type { Entity } from 'dynamodb-toolbox/entity';
import { EntityFormatter } from 'dynamodb-toolbox/entity/actions/format';
import { GetItemCommand } from 'dynamodb-toolbox/entity/actions/get';
import { PutItemCommand } from 'dynamodb-toolbox/entity/actions/put';
import { describe, expect, it } from 'vitest';
import { authEntity, orgQuotaEntity } from '../../lib/auth/entity';
import { ORG_QUOTA_STORE } from '../../lib/auth/org-quota';
import { AUTH_STORE } from '../../lib/auth/store';
import type { TableUse } from '../../lib/store/access';
import { leaseEntity, runEntity, taskEntity, waiterEntity } from '../../lib/store/entities';
import { DUE_PROJECTION, taskOrgsKey } from '../../lib/store/keys';
import { LEASE_STORE } from '../../lib/store/lease-store';
import { runItems } from '../../lib/store/run-items';
import { RUN_STORE } from '../../lib/store/run-store';
import { rotaTable } from '../../lib/store/table';
import { taskItems } from '../../lib/store/task-items';
import { TASK_STORE } from '../../lib/store/task-store';
import { checkStateEntity, STATUS_STORE, statusEntity } from '../../lib/systems/checks/status-store';
import { ENDPOINT_STORE, endpointEntity } from '../../lib/systems/notifications/endpoint-store';
import {
  logEntity,
  NOTIFICATION_LOG_STORE,
  ruleStateEntity,
} from '../../lib/systems/notifications/log-store';

const table = rotaTable('rota-test');
type Key = Record<string, unknown>;
/** The primary key an entity computes for `key`, as it goes on the wire. */
const keyOf = (entity: Entity, key: Key) =>
  entity
    .build(GetItemCommand)
    .key(key as never)
    .params().Key as Record<string, string>;

/**
 * The key design is declared by the entities; the IAM grants by the stores' TableUse
 * declarations. Each entity's partition key must start with a prefix its store is
 * granted, or the store's calls would be denied on AWS.
 */
const CASES: { item: string; key: Record<string, string>; uses: TableUse[] }[] = [
  {
    item: 'task',
    key: keyOf(taskEntity(table), { id: 't1' }),
    uses: Object.values(TASK_STORE).filter(
      (u) => 'keyPrefixes' in u && u !== TASK_STORE.registersOrgs && u !== TASK_STORE.listsAcrossOrgs,
    ),
  },
  // Not an entity: the org directory is plain requests on this key (lib/store/org-directory.ts).
  {
    item: "a type's org directory",
    key: taskOrgsKey('alpha'),
    uses: [TASK_STORE.registersOrgs, TASK_STORE.listsAcrossOrgs],
  },
  { item: 'run', key: keyOf(runEntity(table), { taskID: 't1', id: 'r1' }), uses: Object.values(RUN_STORE) },
  { item: 'lease', key: keyOf(leaseEntity(table), { taskID: 't1', sk: 'LEASE#0000' }), uses: [LEASE_STORE] },
  { item: 'waiter', key: keyOf(waiterEntity(table), { taskID: 't1', runID: 'r1' }), uses: [LEASE_STORE] },
  { item: 'token', key: keyOf(authEntity(table), { id: 'a1' }), uses: Object.values(AUTH_STORE) },
  { item: 'org quota', key: keyOf(orgQuotaEntity(table), { orgID: 'o1' }), uses: [ORG_QUOTA_STORE] },
  {
    item: 'check status',
    key: keyOf(statusEntity(table), { checkID: 'c1', time: '2026-01-01T00:00:00Z', runID: 'r1' }),
    uses: [STATUS_STORE.writes, STATUS_STORE.reads],
  },
  {
    item: 'check state',
    key: keyOf(checkStateEntity(table), { checkID: 'c1' }),
    uses: [STATUS_STORE.writes],
  },
  {
    item: 'notification endpoint',
    key: keyOf(endpointEntity(table), { id: 'e1' }),
    uses: Object.values(ENDPOINT_STORE),
  },
  {
    item: 'notification log entry',
    key: keyOf(logEntity(table), { ruleID: 'n1', sk: 'NOTIFY#x' }),
    uses: Object.values(NOTIFICATION_LOG_STORE),
  },
  {
    item: 'rule state',
    key: keyOf(ruleStateEntity(table), { ruleID: 'n1' }),
    uses: [NOTIFICATION_LOG_STORE.writes],
  },
];

describe('entities and the grants their stores declare', () => {
  it.each(CASES)('a $item key lies under every key prefix its store is granted', ({ key, uses }) => {
    expect(uses.length).toBeGreaterThan(0);
    for (const use of uses) {
      expect(
        use.keyPrefixes?.some((prefix) => key.PK?.startsWith(prefix)),
        use.name,
      ).toBe(true);
    }
  });

  it('computes the documented keys (lib/store/keys.ts)', () => {
    const byItem = Object.fromEntries(CASES.map((c) => [c.item, c.key]));
    expect(byItem.task).toEqual({ PK: 'TASK#t1', SK: 'TASK' });
    expect(byItem.run).toEqual({ PK: 'TASK#t1', SK: 'RUN#r1' });
    expect(byItem.waiter).toEqual({ PK: 'TASK#t1', SK: 'WAIT#r1' });
    expect(byItem.token).toEqual({ PK: 'AUTH#a1', SK: 'AUTH' });
    expect(byItem['org quota']).toEqual({ PK: 'ORG#o1', SK: 'QUOTA' });
    expect(byItem['check status']).toEqual({ PK: 'TASK#c1', SK: 'STATUS#2026-01-01T00:00:00Z#r1' });
    expect(byItem['check state']).toEqual({ PK: 'TASK#c1', SK: 'CHECKSTATE' });
    expect(byItem['notification endpoint']).toEqual({ PK: 'ENDPOINT#e1', SK: 'ENDPOINT' });
    expect(byItem['rule state']).toEqual({ PK: 'TASK#n1', SK: 'RULESTATE' });
  });
});

describe('schema-checked reads', () => {
  const runs = runEntity(table);
  const stored = {
    PK: 'TASK#t1',
    SK: 'RUN#r1',
    taskID: 't1',
    id: 'r1',
    status: 'success',
    kind: 'manual',
    scheduledFor: '2026-01-01T00:00:00Z',
    attempt: 1,
    log: [],
  };

  it('reads a stored run as the entity declares it, without keys', () => {
    // Act
    const run = runs.build(EntityFormatter).format(stored);
    // Assert
    expect(run).toEqual({
      taskID: 't1',
      id: 'r1',
      status: 'success',
      kind: 'manual',
      scheduledFor: stored.scheduledFor,
      attempt: 1,
      log: [],
    });
  });

  it('refuses an item whose attribute breaks the schema instead of passing it on', () => {
    expect(() => runs.build(EntityFormatter).format({ ...stored, status: 'exploded' })).toThrow();
    expect(() => runs.build(EntityFormatter).format({ ...stored, attempt: 'one' })).toThrow();
    const { scheduledFor: _, ...incomplete } = stored;
    expect(() => runs.build(EntityFormatter).format(incomplete)).toThrow();
  });

  it('writes no attribute of its own: a put is the item, its keys and nothing else', () => {
    // Act
    const { Item } = runs
      .build(PutItemCommand)
      .item({
        taskID: 't1',
        id: 'r1',
        status: 'scheduled',
        kind: 'manual',
        scheduledFor: stored.scheduledFor,
        attempt: 1,
        log: [],
      })
      .params();
    // Assert
    expect(Object.keys(Item ?? {}).sort()).toEqual(
      ['PK', 'SK', 'attempt', 'id', 'kind', 'log', 'scheduledFor', 'status', 'taskID'].sort(),
    );
  });
});

describe("the stores' reads: each checks the attributes its caller gets", () => {
  const send = {} as never;
  const tasks = taskItems({ tableName: 'rota-test', send, dueShards: 8 });
  const runs = runItems({ tableName: 'rota-test', send, retentionMs: 60_000, openShards: 4 });
  const task = {
    id: 't1',
    type: 'alpha',
    orgID: 'o1',
    name: 'n',
    description: '',
    status: 'active',
    every: '1m',
    catchUp: 'latest',
    metadata: { url: 'https://example.com' },
    latestScheduled: '2026-01-01T00:00:00.000Z',
    nextRunAt: '2026-01-01T00:01:00.000Z',
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    version: 3,
    revision: 2,
  };
  const storedTask = {
    ...task,
    PK: 'TASK#t1',
    SK: 'TASK',
    GSI1PK: 'ORG#o1#alpha',
    GSI1SK: 't1',
    DUEPK: 'DUE#1',
    DUEAT: 1_767_225_660_000,
  };
  const run = {
    taskID: 't1',
    id: 'r1',
    status: 'started',
    kind: 'scheduled',
    scheduledFor: '2026-01-01T00:00:00Z',
    startedAt: '2026-01-01T00:00:01Z',
    attempt: 1,
    claims: 1,
    log: [],
  };
  const storedRun = {
    ...run,
    PK: 'TASK#t1',
    SK: 'RUN#r1',
    claimToken: 'k',
    claimExpiresAt: 1_767_225_630_000,
    OPENPK: 'OPEN#1',
    OPENAT: 1_767_225_690_000,
    expiresAt: 1_767_830_400,
  };

  it('reads a task item as the task, without its index attributes', () => {
    expect(tasks.task(storedTask)).toEqual(task);
  });

  it('reads a due index item as its projected scheduling fields, the same as projecting the whole entity', () => {
    const {
      metadata: _m,
      name: _n,
      description: _d,
      createdAt: _c,
      updatedAt: _u,
      ...projected
    } = storedTask;
    const due = tasks.dueTask(projected);
    expect(due).toEqual(
      tasks.tasks.build(EntityFormatter).format(projected, { attributes: [...DUE_PROJECTION] }),
    );
    expect(due).toEqual({
      id: 't1',
      type: 'alpha',
      orgID: 'o1',
      status: 'active',
      every: '1m',
      catchUp: 'latest',
      latestScheduled: task.latestScheduled,
      nextRunAt: task.nextRunAt,
      version: 3,
      revision: 2,
    });
  });

  it('reads a run item as the run, without the engine state, as its claim count, and as the state with it', () => {
    expect(runs.run(storedRun)).toEqual(run);
    expect(runs.claims({ ...storedRun, claims: 2 })).toBe(2);
    expect(runs.state(storedRun)).toEqual({
      run,
      claimExpiresAt: storedRun.claimExpiresAt,
      openAt: storedRun.OPENAT,
      waiting: false,
    });
  });

  it('refuses an item that breaks the schema, naming its key', () => {
    expect(() => tasks.task({ ...storedTask, status: 'exploded' })).toThrow(/status.*Partition key: TASK#t1/);
    expect(() => tasks.task({ ...storedTask, version: '3' })).toThrow(/version/);
    const { createdAt: _, ...incomplete } = storedTask;
    expect(() => tasks.task(incomplete)).toThrow(/createdAt/);
    expect(() => tasks.dueTask({ ...storedTask, catchUp: 'sometimes' })).toThrow(/catchUp.*Sort key: TASK/);
    const { latestScheduled: _l, ...unscheduled } = storedTask;
    expect(() => tasks.dueTask(unscheduled)).toThrow(/latestScheduled/);
    expect(() => runs.run({ ...storedRun, attempt: 'one' })).toThrow(/attempt.*Sort key: RUN#r1/);
    expect(() => runs.run({ ...storedRun, log: [{ time: 1 }] })).toThrow(/log/);
    expect(() => runs.claims({ ...storedRun, claims: 'two' })).toThrow(/claims.*Partition key: TASK#t1/);
  });
});
