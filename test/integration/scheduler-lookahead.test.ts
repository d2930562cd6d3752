import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, DeleteMessageCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { QueuedRun, RunQueue } from '../../lib/queue/run-queue';
import {
  createCoordinator,
  createPlanQueue,
  isStale,
  type PlanJob,
  planJobSchema,
} from '../../lib/scheduler/fan-out';
import { planOptionsFor } from '../../lib/scheduler/plan';
import { nearestDelaySeconds } from '../../lib/scheduler/scheduler';
import { ATTR, dueShard, taskKey } from '../../lib/store/keys';
import { createTaskStore, type TaskStore } from '../../lib/store/task-store';
import { nextRunFrom } from '../../lib/task/next-run';
import { OPERATOR } from '../../lib/task/task-service';
import { type Backend, describeEach, raceSafeBackends } from '../support/emulators';
import { capturingQueue, createEngine, type Engine } from '../support/engine';
import { crashOn } from '../support/faults';

/** The deployed default: a one-minute tick planning 15 minutes ahead. */
const FIFTEEN_MINUTES = planOptionsFor(60);
const probe = { durationMs: 5, fail: false, hang: false };

/** A queue that records each enqueue call (each one SendMessageBatch) and fails the ones a test picks. */
function batchRecordingQueue(fail: (call: number) => boolean = () => false) {
  const batches: QueuedRun[][] = [];
  const queue: RunQueue = {
    enqueue: async (runs) => {
      const call = batches.length;
      batches.push([...runs]);
      if (fail(call)) throw new Error('SQS refused the batch (injected)');
    },
    enqueueOne: async (run) => {
      batches.push([run]);
    },
  };
  return { batches, queue };
}

describeEach(raceSafeBackends())('scheduler lookahead, batches and shards on $name', ({ start }) => {
  let backend: Backend;
  let engine: Engine;

  beforeAll(async () => {
    backend = await start();
    engine = await createEngine(backend);
  });
  afterAll(async () => {
    await engine.close();
    await backend.stop();
  });

  const everyMinute = (name: string) =>
    engine.probes.create(OPERATOR, { orgID: 'org', name, every: '1m', metadata: probe });

  it('one advance plans 15 minutes of an every-1m task, and the next tick leaves it alone', async () => {
    const task = await everyMinute('lookahead');
    const captured = capturingQueue();
    await engine.newScheduler(captured, FIFTEEN_MINUTES).tick();
    const mine = captured.sent.filter((r) => r.message.taskID === task.id);
    expect(mine).toHaveLength(15);
    const delays = mine.map((r) => r.delaySeconds);
    expect(Math.max(...delays)).toBeGreaterThan(13 * 60);
    expect(Math.max(...delays)).toBeLessThanOrEqual(900);
    for (const d of delays) expect(Number.isInteger(d)).toBe(true);
    const advanced = await engine.tasks.get(task.id);
    expect(Date.parse(advanced?.nextRunAt ?? '') - Date.now()).toBeGreaterThan(14 * 60_000);

    const again = capturingQueue();
    await engine.newScheduler(again, FIFTEEN_MINUTES).tick();
    expect(again.sent.filter((r) => r.message.taskID === task.id)).toHaveLength(0);
    // The API's next run comes from the schedule, not from the cursor 15 minutes ahead.
    if (!advanced) throw new Error('task vanished');
    expect(Date.parse(String(nextRunFrom(advanced, Date.now()))) - Date.now()).toBeLessThanOrEqual(60_000);
  });

  it('a crash between enqueue and advance: the re-run sends the same 15 run IDs, none lost or doubled', async () => {
    const task = await everyMinute('crash-lookahead');
    const captured = capturingQueue();
    const tasks: TaskStore = {
      ...engine.tasks,
      advanceSchedule: crashOn(engine.tasks.advanceSchedule, 'scheduler, after enqueue', {
        when: (id) => id === task.id,
      }),
    };
    const crashed = await engine.newScheduler(captured, FIFTEEN_MINUTES, { tasks }).tick();
    expect(crashed.failed).toBeGreaterThanOrEqual(1);
    const first = captured.sent.filter((r) => r.message.taskID === task.id).map((r) => r.message.runID);
    expect(first).toHaveLength(15);
    expect((await engine.tasks.get(task.id))?.latestScheduled).toBe(task.latestScheduled);

    captured.sent.length = 0;
    await engine.newScheduler(captured, FIFTEEN_MINUTES).tick();
    const second = captured.sent.filter((r) => r.message.taskID === task.id).map((r) => r.message.runID);
    expect(second).toEqual(first);
    // The 15 instants are consecutive minutes: nothing skipped between the two ticks.
    const instants = captured.sent
      .filter((r) => r.message.taskID === task.id)
      .map((r) => Date.parse(r.message.scheduledFor));
    for (let i = 1; i < instants.length; i++)
      expect((instants[i] ?? 0) - (instants[i - 1] ?? 0)).toBe(60_000);

    // The claim refuses the duplicate: the first copy is stored, the second is a duplicate.
    const soonest = captured.sent.find((r) => r.message.runID === first[0]);
    if (!soonest) throw new Error('no first run');
    const at = Date.parse(soonest.message.scheduledFor);
    const executor = engine.newExecutor({}, { now: () => at });
    const outcomes = [await executor.execute(soonest.message), await executor.execute(soonest.message)].map(
      (o) => o.outcome,
    );
    expect(outcomes[1]).toBe('duplicate');
    expect(engine.observations.startsOf(soonest.message.runID)).toBe(1);
  });

  it('an edit wins over a run planned 10 minutes ahead: the executor drops the old revision', async () => {
    const task = await everyMinute('revision-drop');
    const captured = capturingQueue();
    await engine.newScheduler(captured, FIFTEEN_MINUTES).tick();
    const far = captured.sent.find(
      (r) => r.message.taskID === task.id && Date.parse(r.message.scheduledFor) - Date.now() > 9.5 * 60_000,
    );
    if (!far) throw new Error('no run planned ~10 minutes ahead');
    expect(far.delaySeconds).toBeGreaterThan(9 * 60);
    const at = Date.parse(far.message.scheduledFor);
    const executorAtItsTime = engine.newExecutor({}, { now: () => at });

    await engine.probes.update(OPERATOR, task.id, { every: '2m' });
    const outcome = await executorAtItsTime.execute(far.message);
    expect(outcome).toMatchObject({
      outcome: 'dropped',
      reason: 'the task schedule changed after this run was queued',
    });
    expect(engine.observations.startsOf(far.message.runID)).toBe(0);

    // Deactivation wins too, for a run of the current revision planned far ahead.
    const replanned = capturingQueue();
    await engine.newScheduler(replanned, FIFTEEN_MINUTES).tick();
    const current = replanned.sent.filter((r) => r.message.taskID === task.id).at(-1);
    if (!current) throw new Error('the edit did not re-plan the task');
    await engine.probes.update(OPERATOR, task.id, { status: 'inactive' });
    const late = engine.newExecutor({}, { now: () => Date.parse(current.message.scheduledFor) });
    expect(await late.execute(current.message)).toMatchObject({
      outcome: 'dropped',
      reason: 'task is inactive',
    });
  });

  it('sends runs of several tasks in shared batches of ten, and advances only tasks whose batches went out', async () => {
    const created = await Promise.all(['b1', 'b2', 'b3'].map(everyMinute));
    const ids = new Set(created.map((t) => t.id));
    // The second batch fails: the tasks with a run in it keep their cursor.
    const { batches, queue } = batchRecordingQueue((call) => call === 1);
    const at = Date.now();
    const report = await engine
      .newScheduler(queue, FIFTEEN_MINUTES, { parallelism: 16, now: () => at })
      .tick();
    for (const batch of batches) expect(batch.length).toBeLessThanOrEqual(10);
    const mixed = batches.filter((b) => new Set(b.map((r) => r.message.taskID)).size > 1);
    expect(mixed.length).toBeGreaterThan(0);
    // 45 runs of three tasks (plus any other due task) fill batches of ten but the last of
    // each send: the runs due before the next tick, then each group's rest (one group here).
    const runsSent = batches.reduce((n, b) => n + b.length, 0);
    const soon = batches.flat().filter((r) => Date.parse(r.message.scheduledFor) < at + 120_000);
    expect(batches.length).toBe(Math.ceil(soon.length / 10) + Math.ceil((runsSent - soon.length) / 10));

    const inFailed = new Set((batches[1] ?? []).map((r) => r.message.taskID));
    expect(report.failed).toBeGreaterThanOrEqual(inFailed.size);
    for (const task of created) {
      const after = await engine.tasks.get(task.id);
      if (inFailed.has(task.id)) expect(after?.latestScheduled).toBe(task.latestScheduled);
      else expect(after?.latestScheduled).not.toBe(task.latestScheduled);
    }
    expect([...inFailed].some((id) => ids.has(id))).toBe(true);
  });

  it('sends a group soonest first across tasks, each round of batches delayed from when it leaves', async () => {
    const created = await Promise.all(
      ['s1', 's2', 's3'].map((name) =>
        engine.probes.create(OPERATOR, { orgID: 'org', name, every: '1s', metadata: probe }),
      ),
    );
    const ids = new Set(created.map((t) => t.id));
    // A slow SQS: every SendMessageBatch moves the clock on by a second. Each batch keeps
    // the clock reading the scheduler took last before sending it.
    const base = Date.now();
    let calls = 0;
    let lastRead = base;
    const now = () => {
      lastRead = base + calls * 1000;
      return lastRead;
    };
    const sent: { run: QueuedRun; call: number; read: number }[] = [];
    const queue: RunQueue = {
      enqueue: async (runs) => {
        const call = calls++;
        for (const run of runs) sent.push({ run, call, read: lastRead });
      },
      enqueueOne: async () => {},
    };
    await engine.newScheduler(queue, FIFTEEN_MINUTES, { now, parallelism: 16 }).tick();
    const ours = sent.filter(({ run }) => ids.has(run.message.taskID));
    // 900 runs of each every-1s task (901 when its creation and the tick straddle a second).
    expect(ours.length).toBeGreaterThanOrEqual(3 * 900);
    const times = ours.map(({ run }) => Date.parse(run.message.scheduledFor));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    for (const { run, call, read } of ours) {
      // Read for its own round of eight batches, not once for the whole group ...
      expect(base + call * 1000 - read).toBeLessThan(8 * 1000);
      // ... and the delay is measured from that reading.
      expect(run.delaySeconds).toBe(nearestDelaySeconds(Date.parse(run.message.scheduledFor) - read));
    }
    expect(new Set(ours.map(({ read }) => read)).size).toBeGreaterThan(10);
  });

  it("sends every due task's runs due before the next tick ahead of any far-ahead run", async () => {
    const created = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        engine.probes.create(OPERATOR, { orgID: 'org', name: `soon-${i}`, every: '1s', metadata: probe }),
      ),
    );
    const ids = new Set(created.map((t) => t.id));
    const captured = capturingQueue();
    const at = Date.now();
    // Two groups of tasks: the second's first runs must not wait for the first's 900 each.
    await engine.newScheduler(captured, FIFTEEN_MINUTES, { now: () => at, parallelism: 10 }).tick();
    const ours = captured.sent.filter((r) => ids.has(r.message.taskID));
    const soon = at + FIFTEEN_MINUTES.dueWithinMs;
    const isSoon = (r: QueuedRun) => Date.parse(r.message.scheduledFor) < soon;
    const firstFar = ours.findIndex((r) => !isSoon(r));
    expect(firstFar).toBeGreaterThan(0);
    expect(ours.slice(firstFar).some(isSoon)).toBe(false);
    expect(new Set(ours.slice(0, firstFar).map((r) => r.message.taskID)).size).toBe(20);
    for (const task of created)
      expect((await engine.tasks.get(task.id))?.latestScheduled).not.toBe(task.latestScheduled);
  });

  it('shard ranges split the due tasks between workers without overlap or gap', async () => {
    const created = await Promise.all(Array.from({ length: 12 }, (_, i) => everyMinute(`range-${i}`)));
    const ids = new Set(created.map((t) => t.id));
    const captured = capturingQueue();
    const scheduler = engine.newScheduler(captured, FIFTEEN_MINUTES);
    const low = await scheduler.tick({ shards: { from: 0, to: 2 } });
    const high = await scheduler.tick({ shards: { from: 2, to: 4 } });
    expect(low.due).toBeGreaterThan(0);
    expect(high.due).toBeGreaterThan(0);
    const planned = captured.sent.filter((r) => ids.has(r.message.taskID));
    expect(new Set(planned.map((r) => r.message.taskID)).size).toBe(12);
    expect(planned).toHaveLength(12 * 15);
  });

  it('lowering the shard count strands no task: readers cover the old shards, and advance re-shards', async () => {
    const wide = createTaskStore({ client: engine.dynamo, tableName: engine.tableName, dueShards: 64 });
    const narrowStore = createTaskStore({ client: engine.dynamo, tableName: engine.tableName, dueShards: 2 });
    const created = await Promise.all(Array.from({ length: 10 }, (_, i) => everyMinute(`reshard-${i}`)));
    // Put the tasks where a 64-shard deployment would have put them.
    for (const task of created) {
      const current = await engine.tasks.get(task.id);
      if (!current) throw new Error('task vanished');
      await wide.advanceSchedule(task.id, current.version, {
        latestScheduled: current.latestScheduled,
        nextRunAt: current.nextRunAt,
      });
    }
    const highShards = created.filter((t) => Number(dueShard(t.id, 64).slice(4)) >= 4);
    expect(highShards.length).toBeGreaterThan(0);
    const ids = new Set(created.map((t) => t.id));

    // A reader of the new count alone would not see the tasks in shards 4..63.
    const blind = capturingQueue();
    await engine.newScheduler(blind, FIFTEEN_MINUTES, { tasks: narrowStore, dueShards: 4 }).tick();
    const seen = new Set(blind.sent.map((r) => r.message.taskID));
    for (const task of highShards) expect(seen.has(task.id)).toBe(false);

    // Reading every shard a task may be in (ROTA_DUE_SHARDS_READ=64) finds them all ...
    const captured = capturingQueue();
    await engine.newScheduler(captured, FIFTEEN_MINUTES, { tasks: narrowStore, dueShards: 64 }).tick();
    const planned = new Set(captured.sent.map((r) => r.message.taskID).filter((id) => ids.has(id)));
    for (const task of highShards) expect(planned.has(task.id)).toBe(true);
    // ... and the advance moved each into the new two shards.
    for (const task of created) {
      const item = await engine.dynamo.send(
        new GetItemCommand({ TableName: engine.tableName, Key: marshall(taskKey(task.id)) }),
      );
      const duePk = unmarshall(item.Item ?? {})[ATTR.duePk];
      expect(['DUE#0', 'DUE#1']).toContain(duePk);
    }
  });

  it('fans out: the coordinator sends one job per shard range over SQS, and the workers plan every due task once', async () => {
    const created = await Promise.all(Array.from({ length: 8 }, (_, i) => everyMinute(`fan-${i}`)));
    const ids = new Set(created.map((t) => t.id));
    const { QueueUrl } = await engine.sqs.send(new CreateQueueCommand({ QueueName: `plan-${Date.now()}` }));
    if (!QueueUrl) throw new Error('no planning queue');
    const coordinator = createCoordinator({
      queue: createPlanQueue({ client: engine.sqs, queueUrl: QueueUrl }),
      shards: 4,
      workers: 3,
    });
    expect(await coordinator.tick()).toEqual({ jobs: 3 });

    const jobs: PlanJob[] = [];
    for (let polls = 0; jobs.length < 3 && polls < 20; polls++) {
      const got = await engine.sqs.send(
        new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
      );
      for (const m of got.Messages ?? []) {
        jobs.push(planJobSchema.parse(JSON.parse(m.Body ?? '')));
        await engine.sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: m.ReceiptHandle }));
      }
    }
    const ranges = jobs.map(({ from, to }) => [from, to]).sort((a, b) => (a[0] ?? 0) - (b[0] ?? 0));
    expect(ranges).toEqual([
      [0, 1],
      [1, 2],
      [2, 4],
    ]);
    for (const job of jobs) expect(isStale(job, Date.now(), 60_000)).toBe(false);

    // Each job is one worker's tick over its range; together they plan every task once.
    const captured = capturingQueue();
    await Promise.all(
      jobs.map((job) => engine.newScheduler(captured, FIFTEEN_MINUTES).tick({ shards: job })),
    );
    const planned = captured.sent.filter((r) => ids.has(r.message.taskID));
    expect(planned).toHaveLength(8 * 15);
    expect(new Set(planned.map((r) => r.message.runID)).size).toBe(8 * 15);
  });
});
