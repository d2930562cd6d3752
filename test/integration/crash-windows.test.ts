import { type DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunQueue } from '../../lib/queue/run-queue';
import type { RunMessage } from '../../lib/run/model';
import { policyRetryRunID } from '../../lib/run/run-ids';
import { ATTR, openShardKeys, runSk, taskPk } from '../../lib/store/keys';
import type { TaskStore } from '../../lib/store/task-store';
import { tasksSystem } from '../../lib/systems/tasks/definition';
import { OPERATOR } from '../../lib/task/task-service';
import { type Backend, describeEach, raceSafeBackends, waitFor } from '../support/emulators';
import { capturingQueue, createEngine, type Engine } from '../support/engine';
import { capturingLogger, crashOn, InjectedCrash } from '../support/faults';

const probe = (extra: Record<string, unknown> = {}) => ({
  durationMs: 20,
  fail: false,
  hang: false,
  ...extra,
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** A lookahead of a few seconds: the instants a tick sends are due before the test ends. */
const SHORT_WINDOW = { lookaheadMs: 3_000, dueWithinMs: 2_000 };

describeEach(raceSafeBackends())('crash windows on $name', ({ start }) => {
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

  describe('scheduler', () => {
    it('a crash between enqueue and advance sends the instants again, and each starts once', async () => {
      const task = await engine.probes.create(OPERATOR, {
        orgID: 'org',
        name: 'crash-before-advance',
        every: '1s',
        metadata: probe(),
      });
      const captured = capturingQueue();
      const tasks: TaskStore = {
        ...engine.tasks,
        advanceSchedule: crashOn(engine.tasks.advanceSchedule, 'scheduler, after enqueue'),
      };

      const crashed = await engine.newScheduler(captured, SHORT_WINDOW, { tasks }).tick();
      expect(crashed).toMatchObject({ due: 1, advanced: 0, failed: 1 });
      const firstSent = captured.sent.map((r) => r.message.runID);
      expect(firstSent.length).toBeGreaterThan(0);
      // The cursor did not move, so nothing the first tick planned is lost.
      expect((await engine.tasks.get(task.id))?.latestScheduled).toBe(task.latestScheduled);

      const next = await engine.newScheduler(captured, SHORT_WINDOW).tick();
      expect(next).toMatchObject({ advanced: 1, failed: 0 });
      const allSent = captured.sent.map((r) => r.message.runID);
      for (const runID of firstSent) expect(allSent.filter((id) => id === runID)).toHaveLength(2);

      // SQS delivers every message, duplicates included: each instant starts exactly once.
      // Delivered once the last is at most 1.5 s early, as SQS's delays would hand them out.
      const latest = Math.max(...captured.sent.map((r) => Date.parse(r.message.scheduledFor)));
      await sleep(Math.max(0, latest - Date.now() - 1_500));
      const executor = engine.newExecutor();
      const outcomes = await Promise.all(captured.sent.map(({ message }) => executor.execute(message)));
      const distinct = [...new Set(allSent)];
      for (const runID of distinct) expect(engine.observations.startsOf(runID)).toBe(1);
      expect(outcomes.filter((o) => o.outcome === 'success')).toHaveLength(distinct.length);
      expect(outcomes.filter((o) => o.outcome === 'duplicate')).toHaveLength(
        allSent.length - distinct.length,
      );
    });

    it('one task that fails does not stop the tick: it is logged with its id and counted', async () => {
      const created = await Promise.all(
        ['a', 'b', 'c'].map((name) =>
          engine.probes.create(OPERATOR, {
            orgID: 'org',
            name: `tick-${name}`,
            every: '10s',
            metadata: probe(),
          }),
        ),
      );
      const bad = created[1]?.id ?? '';
      const tasks: TaskStore = {
        ...engine.tasks,
        advanceSchedule: crashOn(engine.tasks.advanceSchedule, 'one bad task', {
          times: Number.POSITIVE_INFINITY,
          when: (id) => id === bad,
        }),
      };
      const { logger, entries } = capturingLogger();
      const failures: string[] = [];
      const report = await engine
        .newScheduler(capturingQueue(), undefined, {
          tasks,
          logger,
          onTaskFailed: (taskID) => failures.push(taskID),
        })
        .tick();

      const ours = created.map((t) => t.id);
      expect(report.failed).toBe(1);
      expect(failures).toEqual([bad]);
      expect(entries.filter((e) => e.level === 'error').map((e) => e.fields.taskID)).toEqual([bad]);
      for (const id of ours.filter((id) => id !== bad)) {
        expect((await engine.tasks.get(id))?.version, id).toBe(2);
      }
      expect((await engine.tasks.get(bad))?.version).toBe(1);
    });

    it('stops on its time budget and leaves the rest of the due tasks to the next tick', async () => {
      const fresh = await createEngine(backend);
      try {
        await Promise.all(
          [1, 2, 3, 4, 5].map((i) =>
            fresh.probes.create(OPERATOR, {
              orgID: 'org',
              name: `budget-${i}`,
              every: '10s',
              metadata: probe(),
            }),
          ),
        );
        // The first look at the clock finds time; every later one finds the Lambda near its deadline.
        let looks = 0;
        const remainingTimeMs = () => (looks++ === 0 ? 60_000 : 5_000);
        const scheduler = fresh.newScheduler(capturingQueue(), undefined, { parallelism: 2 });
        const first = await scheduler.tick({ remainingTimeMs });
        expect(first).toMatchObject({ due: 5, advanced: 2, deferred: 3, failed: 0 });
        const second = await scheduler.tick({ remainingTimeMs: () => 60_000 });
        expect(second).toMatchObject({ due: 3, advanced: 3, deferred: 0 });
      } finally {
        await fresh.close();
      }
    });

    it('logs ids, type, schedule and revision of a scheduled task, never its document', async () => {
      const userTasks = engine.taskService.forSystem(tasksSystem);
      const task = await userTasks.create(OPERATOR, {
        orgID: 'org',
        name: 'logged',
        every: '1s',
        metadata: {
          target: {
            kind: 'http',
            url: 'https://hooks.example.com/private-path',
            method: 'POST',
            body: { note: 'a body that must stay out of logs' },
          },
        },
      });
      const { logger, entries } = capturingLogger();
      await engine.newScheduler(capturingQueue(), SHORT_WINDOW, { logger }).tick();
      const line = entries.find((e) => e.message === 'task scheduled' && e.fields.taskID === task.id);
      expect(line?.fields).toMatchObject({
        taskID: task.id,
        type: 'task',
        orgID: 'org',
        revision: task.revision,
        every: '1s',
      });
      const allowed = [
        'taskID',
        'type',
        'orgID',
        'revision',
        'every',
        'cron',
        'offset',
        'timezone',
        'jitter',
        'startAt',
        'endAt',
        'catchUp',
        'latestScheduled',
        'nextRunAt',
        'runs',
        'skippedMissed',
      ];
      expect(Object.keys(line?.fields ?? {}).filter((k) => !allowed.includes(k))).toEqual([]);
      const text = JSON.stringify(entries);
      expect(text).not.toContain('hooks.example.com');
      expect(text).not.toContain('stay out of logs');
      expect(text).not.toContain('"metadata"');
      expect(text).not.toContain('"target"');
      await userTasks.update(OPERATOR, task.id, { status: 'inactive' });
    });
  });

  describe('executor', () => {
    const failing = (name: string) =>
      engine.probes.create(OPERATOR, {
        orgID: 'org',
        name,
        every: '1h',
        retry: { attempts: 1, backoff: '1s' },
        metadata: probe({ fail: true }),
      });

    it('a crash between finish and the retry: the redelivery records the completion and creates the retry', async () => {
      const task = await failing('crash-after-finish');
      const run = await engine.runService.runNow(OPERATOR, task.id);
      const message = engine.messageFor(run);
      const crashing = engine.newExecutor(
        {},
        {
          tasks: {
            ...engine.tasks,
            recordCompletion: crashOn(engine.tasks.recordCompletion, 'executor, after finish'),
          },
        },
      );
      await expect(crashing.execute(message)).rejects.toBeInstanceOf(InjectedCrash);
      expect(await engine.runs.get(task.id, run.id)).toMatchObject({ status: 'failed' });
      expect(await engine.runs.list(task.id, { limit: 10 })).toHaveLength(1);

      // The message was not deleted, so SQS hands it out again.
      const sent = capturingQueue();
      const redelivered = await engine.newExecutor({}, { queue: sent }).execute(message, { receiveCount: 2 });
      expect(redelivered.outcome).toBe('duplicate');
      const retryID = policyRetryRunID(run.id, Date.parse(run.scheduledFor), 2);
      expect(await engine.runs.get(task.id, retryID)).toMatchObject({
        status: 'scheduled',
        kind: 'retry',
        attempt: 2,
        retryOf: run.id,
      });
      expect(sent.sent.map((s) => s.message.runID)).toEqual([retryID]);
      expect(await engine.tasks.get(task.id)).toMatchObject({ lastRunStatus: 'failed' });
      // The original ran once; the redelivery only finished the bookkeeping.
      expect(engine.observations.startsOf(run.id)).toBe(1);
    });

    it('a crash after the retry is stored but before it is sent: the redelivery sends it', async () => {
      const task = await failing('crash-before-retry-send');
      const run = await engine.runService.runNow(OPERATOR, task.id);
      const message = engine.messageFor(run);
      const queue: RunQueue = {
        ...engine.queue,
        enqueueOne: crashOn(engine.queue.enqueueOne, 'executor, before sending the retry', {
          when: (queued) => queued.message.kind === 'retry',
        }),
      };
      await expect(engine.newExecutor({}, { queue }).execute(message)).rejects.toBeInstanceOf(InjectedCrash);
      const retryID = policyRetryRunID(run.id, Date.parse(run.scheduledFor), 2);
      expect(await engine.runs.get(task.id, retryID)).toMatchObject({ status: 'scheduled' });

      const sent = capturingQueue();
      await engine.newExecutor({}, { queue: sent }).execute(message, { receiveCount: 2 });
      expect(sent.sent.map((s) => s.message)).toEqual([
        expect.objectContaining({ runID: retryID, kind: 'retry', attempt: 2 }),
      ]);
      // A third delivery finds the retry sent and stored: it sends it again, harmlessly
      // (the claim lets one of them start it), and creates nothing new.
      await engine.newExecutor({}, { queue: sent }).execute(message, { receiveCount: 3 });
      expect((await engine.runs.list(task.id, { limit: 10 })).map((r) => r.id).sort()).toEqual(
        [run.id, retryID].sort(),
      );
    });

    it('a heartbeat that finds its lease taken aborts the run; its run waits again instead of running twice', async () => {
      const task = await engine.probes.create(OPERATOR, {
        orgID: 'org',
        name: 'partitioned',
        every: '1h',
        concurrency: 1,
        metadata: probe({ hang: true }),
      });
      // The second run is the older one, so it goes first once the first has to wait again.
      const first = await engine.runService.runNow(
        OPERATOR,
        task.id,
        new Date(Date.now() - 1_000).toISOString(),
      );
      const second = await engine.runService.runNow(
        OPERATOR,
        task.id,
        new Date(Date.now() - 2_000).toISOString(),
      );
      // A's heartbeats fail for a while (a network partition): its claim and slot lapse.
      let partitioned = true;
      const cut =
        <A extends unknown[], R>(method: (...args: A) => Promise<R>) =>
        async (...args: A) => {
          if (partitioned) throw new Error('network partition');
          return method(...args);
        };
      const a = engine
        .newExecutor(
          { claimTtlMs: 400, heartbeatMs: 100 },
          {
            runs: { ...engine.runs, heartbeat: cut(engine.runs.heartbeat) },
            leases: { ...engine.leases, extend: cut(engine.leases.extend) },
          },
        )
        .start(engine.messageFor(first));
      await engine.waitForStatus(first, 'started');
      // Partitioned, A cannot extend its slot: wait until the store shows it lapsed.
      await waitFor(
        async () =>
          (await engine.leases.slots(task.id)).every((slot) => slot.expiresAtMs < Date.now())
            ? true
            : undefined,
        { what: "A's slot to lapse" },
      );

      // B delivers the second run: it reclaims the lapsed slot, moving A's run back to waiting first.
      const b = engine.newExecutor({ claimTtlMs: 5_000 }).start(engine.messageFor(second));
      await engine.waitForStatus(second, 'started');
      const listed = await engine.runs.list(task.id, { limit: 10 });
      expect(listed.filter((r) => r.status === 'started').map((r) => r.id)).toEqual([second.id]);
      expect(listed.find((r) => r.id === first.id)?.status).toBe('scheduled');

      // The partition heals: A's next heartbeat finds claim and slot gone and aborts.
      partitioned = false;
      const aborted = await a.done();
      expect(aborted).toMatchObject({ outcome: 'duplicate', reason: 'lost the claim' });
      expect(engine.observations.active.get(task.id)).toBe(1);
      const waiting = await engine.runs.get(task.id, first.id);
      expect(waiting?.log.map((l) => l.message).join('\n')).toMatch(/executor running this run stopped/);

      await engine.runService.cancel(OPERATOR, task.id, first.id);
      b.cancel();
      expect((await b.done()).outcome).toBe('canceled');
    });

    it('a heartbeat whose lease extension fails aborts the run', async () => {
      const task = await engine.probes.create(OPERATOR, {
        orgID: 'org',
        name: 'lease-lost',
        every: '1h',
        concurrency: 1,
        metadata: probe({ hang: true }),
      });
      const run = await engine.runService.runNow(OPERATOR, task.id);
      const result = await engine
        .newExecutor({ heartbeatMs: 100 }, { leases: { ...engine.leases, extend: async () => false } })
        .execute(engine.messageFor(run));
      expect(result.outcome).toBe('failed');
      expect(result.run?.error).toBe('lost its concurrency slot');
    });
  });

  describe('runs API', () => {
    it('a failed enqueue in runNow and retry still accepts the run, and the reconciler delivers it', async () => {
      // Its own engine: the reconciler's counts are then this test's runs only.
      const engine = await createEngine(backend);
      const task = await engine.probes.create(OPERATOR, {
        orgID: 'org',
        name: 'enqueue-fails',
        every: '1h',
        metadata: probe(),
      });
      const down: RunQueue = {
        enqueue: async () => {
          throw new Error('SQS is unavailable');
        },
        enqueueOne: async () => {
          throw new Error('SQS is unavailable');
        },
      };
      const graceMs = 300;
      const service = engine
        .createRunService({ queue: down, stallGraceMs: graceMs })
        .forSystem(engine.probes);
      const manual = await service.runNow(OPERATOR, task.id);
      expect(manual.status).toBe('scheduled');
      const executors = engine.startExecutors(1, 2);
      try {
        // Nothing was sent; only the reconciler, once the run is overdue, sends it.
        const reconciler = engine.newReconciler({ graceMs });
        const delivered = await waitFor(
          async () => {
            const report = await reconciler.reconcile();
            return report.requeued > 0 ? report : undefined;
          },
          { timeoutMs: 10_000, intervalMs: 100, what: 'the reconciler to send the run' },
        );
        expect(delivered.requeued).toBe(1);
        await engine.waitForStatus(manual, 'success');

        const retried = await service.retry(OPERATOR, task.id, manual.id);
        expect(retried.status).toBe('scheduled');
        await waitFor(async () => ((await reconciler.reconcile()).requeued > 0 ? true : undefined), {
          timeoutMs: 10_000,
          intervalMs: 100,
          what: 'the reconciler to send the retry',
        });
        await engine.waitForStatus(retried, 'success');
      } finally {
        await executors.stop();
        await engine.close();
      }
      expect(engine.observations.startsOf(manual.id)).toBe(1);
    });

    it('cancel ends a started run that no live executor holds, at once', async () => {
      const task = await engine.probes.create(OPERATOR, {
        orgID: 'org',
        name: 'stranded',
        every: '1h',
        metadata: probe({ hang: true }),
      });
      const run = await engine.runService.runNow(OPERATOR, task.id);
      void engine.newFrozenExecutor({ claimTtlMs: 300 }).start(engine.messageFor(run));
      await engine.waitForStatus(run, 'started');
      // The frozen executor never heartbeats: wait until the store shows its claim expired.
      await waitFor(
        async () =>
          ((await engine.runs.inspect(task.id, run.id))?.claimExpiresAt ?? 0) < Date.now() ? true : undefined,
        { what: 'the frozen claim to expire' },
      );
      await engine.runService.cancel(OPERATOR, task.id, run.id);
      const stored = await engine.runs.get(task.id, run.id);
      expect(stored?.status).toBe('canceled');
      expect(stored?.log.map((l) => l.message).join('\n')).toMatch(/no executor held it/);
      // A live one is only asked to stop.
      const live = await engine.runService.runNow(OPERATOR, task.id);
      const flight = engine.newExecutor().start(engine.messageFor(live));
      await engine.waitForStatus(live, 'started');
      await engine.runService.cancel(OPERATOR, task.id, live.id);
      expect((await flight.done()).outcome).toBe('canceled');
    });
  });

  describe('reconciler', () => {
    it('resumes a started run whose executor died, and its log says "resumed"', async () => {
      const task = await engine.probes.create(OPERATOR, {
        orgID: 'org',
        name: 'died',
        every: '1h',
        timeout: '1s',
        metadata: probe({ durationMs: 50 }),
      });
      const run = await engine.runService.runNow(OPERATOR, task.id);
      void engine.newFrozenExecutor({ claimTtlMs: 300 }).start(engine.messageFor(run));
      await engine.waitForStatus(run, 'started');
      const sent = capturingQueue();
      const reconciler = engine.newReconciler({ queue: sent, graceMs: 300 });
      // Stalled once its timeout and the claim TTL have passed since it started.
      const report = await waitFor(
        async () => {
          const pass = await reconciler.reconcile();
          return pass.resumed > 0 ? pass : undefined;
        },
        { timeoutMs: 10_000, intervalMs: 100, what: 'the reconciler to resume the run' },
      );
      expect(report.resumed).toBe(1);
      const message = sent.sent.find((s) => s.message.runID === run.id)?.message as RunMessage;
      const resumed = await engine.newExecutor().execute(message);
      expect(resumed.outcome).toBe('success');
      const stored = await engine.runs.get(task.id, run.id);
      expect(stored).toMatchObject({ status: 'success', claims: 2 });
      expect(stored?.log.map((l) => l.message).join('\n')).toMatch(/run resumed/);
      // Finished runs leave the index: the next pass finds nothing of it.
      expect((await reconciler.reconcile()).resumed).toBe(0);
    });

    it('a run that waited leaves the open index at its claim; when its executor dies, the redelivered wake resumes it', async () => {
      const task = await engine.probes.create(OPERATOR, {
        orgID: 'org',
        name: 'waited-then-died',
        every: '1h',
        concurrency: 1,
        metadata: probe({ hang: true }),
      });
      const openEntry = async (runID: string) => {
        const raw = await engine.dynamo.send(
          new GetItemCommand({
            TableName: engine.tableName,
            Key: marshall({ [ATTR.pk]: taskPk(task.id), [ATTR.sk]: runSk(runID) }),
          }),
        );
        return raw.Item?.[ATTR.openAt];
      };
      const holder = await engine.runService.runNow(
        OPERATOR,
        task.id,
        new Date(Date.now() - 500).toISOString(),
      );
      const wakes = capturingQueue();
      const holding = engine
        .newExecutor({ claimTtlMs: 300, heartbeatMs: 100 }, { queue: wakes })
        .start(engine.messageFor(holder));
      await engine.waitForStatus(holder, 'started');
      const waiter = await engine.runService.runNow(
        OPERATOR,
        task.id,
        new Date(Date.now() - 400).toISOString(),
      );
      const waited = await engine
        .newExecutor({}, { queue: capturingQueue() })
        .execute(engine.messageFor(waiter));
      expect(waited.outcome).toBe('waiting');
      expect(await openEntry(waiter.id)).toBeDefined();

      holding.cancel();
      expect((await holding.done()).outcome).toBe('canceled');
      const wake = wakes.sent.find((s) => s.message.runID === waiter.id)?.message;
      if (!wake) throw new Error('no wake');
      // The woken run's executor claims it, then freezes: no heartbeat, no finish, no release.
      void engine.newFrozenExecutor({ claimTtlMs: 300, heartbeatMs: 100 }).start(wake);
      await engine.waitForStatus(waiter, 'started');
      expect(await openEntry(waiter.id)).toBeUndefined();

      // SQS delivers the wake again once its visibility lapses: the expired claim lets it resume.
      await sleep(400);
      const resumed = engine
        .newExecutor({ claimTtlMs: 300, heartbeatMs: 100 })
        .start(wake, { receiveCount: 2 });
      await waitFor(
        async () => ((await engine.runs.get(task.id, waiter.id))?.claims === 2 ? true : undefined),
        { what: 'the redelivered wake to resume the run' },
      );
      // The frozen executor's runner may still be in flight at the target: a resumed run may
      // start twice there (decision 0006's at-least-once contract), so only the store is checked.
      expect(
        (await engine.runs.list(task.id, { limit: 10 })).filter((r) => r.status === 'started'),
      ).toHaveLength(1);
      resumed.cancel();
      expect((await resumed.done()).outcome).toBe('canceled');
      const ended = await engine.runs.get(task.id, waiter.id);
      expect(ended?.log.map((l) => l.message).join('\n')).toMatch(/run resumed/);
    });

    it('keeps a plain scheduled run out of the open index and costs it no extra write', async () => {
      const fresh = await createEngine(backend);
      try {
        const unlimited = await fresh.probes.create(OPERATOR, {
          orgID: 'org',
          name: 'plain',
          every: '1s',
          metadata: probe(),
        });
        const limited = await fresh.probes.create(OPERATOR, {
          orgID: 'org',
          name: 'plain-limited',
          every: '1s',
          concurrency: 1,
          metadata: probe(),
        });
        const captured = capturingQueue();
        await fresh.newScheduler(captured, SHORT_WINDOW).tick();
        const firstOf = (taskID: string) =>
          captured.sent.find((s) => s.message.taskID === taskID)?.message as RunMessage;

        const writes = countWrites(fresh.dynamo);
        const executor = fresh.newExecutor();
        writes.reset();
        expect((await executor.execute(firstOf(unlimited.id))).outcome).toBe('success');
        // Claim, finish, and the task's completion bookkeeping: as before the open index.
        expect(writes.list()).toEqual(['UpdateItem', 'UpdateItem', 'UpdateItem']);
        writes.reset();
        expect((await executor.execute(firstOf(limited.id))).outcome).toBe('success');
        // Plus taking and releasing its lease slot.
        expect(writes.list().sort()).toEqual([
          'DeleteItem',
          'PutItem',
          'UpdateItem',
          'UpdateItem',
          'UpdateItem',
        ]);

        for (const message of [firstOf(unlimited.id), firstOf(limited.id)]) {
          const raw = await fresh.dynamo.send(
            new GetItemCommand({
              TableName: fresh.tableName,
              Key: marshall({ [ATTR.pk]: taskPk(message.taskID), [ATTR.sk]: runSk(message.runID) }),
            }),
          );
          expect(raw.Item?.[ATTR.openPk]).toBeUndefined();
          expect(raw.Item?.[ATTR.openAt]).toBeUndefined();
        }
        for (const shard of openShardKeys(4)) {
          expect((await fresh.runs.queryOpen(shard, Date.now() + 3_600_000)).runs).toEqual([]);
        }
      } finally {
        await fresh.close();
      }
    });
  });
});

/** Counts the DynamoDB writes a client sends, by command name. */
function countWrites(client: DynamoDBClient) {
  const writes: string[] = [];
  const WRITES = ['PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand', 'BatchWriteItemCommand'];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (WRITES.includes(context.commandName ?? ''))
        writes.push((context.commandName ?? '').replace(/Command$/, ''));
      return next(args);
    },
    { step: 'initialize', name: `countWrites-${Math.random()}` },
  );
  return {
    list: () => [...writes],
    reset: () => {
      writes.length = 0;
    },
  };
}
