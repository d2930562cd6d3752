import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scheduledRunID } from '../../lib/run/run-ids';
import { OPERATOR } from '../../lib/task/task-service';
import { type Backend, describeEach, raceSafeBackends, waitFor } from '../support/emulators';
import { capturingQueue, createEngine, type Engine } from '../support/engine';

const probe = (extra: Record<string, unknown> = {}) => ({
  durationMs: 20,
  fail: false,
  hang: false,
  ...extra,
});

describeEach(raceSafeBackends())('run engine invariants on $name', ({ start }) => {
  let backend: Backend;

  beforeAll(async () => {
    backend = await start();
  });
  afterAll(async () => {
    await backend.stop();
  });

  describe('exactly-once start under duplicate ticks and duplicate deliveries', () => {
    let engine: Engine;
    beforeAll(async () => {
      engine = await createEngine(backend, { duplicateDeliveries: true });
    });
    afterAll(() => engine.close());

    it('starts each due instant exactly once', async () => {
      const created = await Promise.all(
        [0, 1, 2].map((i) =>
          engine.probes.create(OPERATOR, {
            orgID: 'org',
            name: `every-${i}`,
            every: '1s',
            metadata: probe(),
          }),
        ),
      );
      const executors = engine.startExecutors(3, 2);
      // Two schedulers fire overlapping ticks, twice a second, for a few seconds. Racing
      // ticks each enqueue before they advance, so every racer sends the window once:
      // a short lookahead keeps the queue shallow (moto's SQS slows as a queue fills).
      const window = { lookaheadMs: 5_000, dueWithinMs: 2_000 };
      const schedulers = [
        engine.newScheduler(engine.queue, window),
        engine.newScheduler(engine.queue, window),
      ];
      const deadline = Date.now() + 6000;
      while (Date.now() < deadline) {
        await Promise.all(schedulers.flatMap((s) => [s.tick(), s.tick()]));
        await new Promise((r) => setTimeout(r, 500));
      }
      // Every instant enqueued so far falls within the next minute; check the ones already due.
      const horizon = Date.now() - 1500;
      await waitFor(
        async () => {
          for (const task of created) {
            const runs = await engine.runs.list(task.id, { limit: 500, beforeTime: horizon });
            if (runs.some((r) => r.status !== 'success')) return undefined;
          }
          return true;
        },
        { timeoutMs: 20_000, what: 'due runs to finish' },
      );
      await executors.stop();

      for (const task of created) {
        const runs = await engine.runs.list(task.id, { limit: 500, beforeTime: horizon });
        const instants = runs.map((r) => Date.parse(r.scheduledFor)).sort((a, b) => a - b);
        expect(instants.length).toBeGreaterThanOrEqual(3);
        // No gaps: one run per second from the first to the last due instant.
        const first = instants[0] ?? 0;
        expect(instants).toEqual(instants.map((_, i) => first + i * 1000));
        for (const run of runs) {
          expect(run.id).toBe(scheduledRunID(task.id, Date.parse(run.scheduledFor)));
          expect(engine.observations.startsOf(run.id)).toBe(1);
          expect(run.claims).toBe(1);
        }
      }
      // The duplicates did arrive, and were refused as duplicates, not started.
      expect(engine.observations.results.filter((r) => r.outcome === 'duplicate').length).toBeGreaterThan(0);
    });
  });

  describe('concurrency cap and free waiting', () => {
    let engine: Engine;
    beforeAll(async () => {
      // maxReceiveCount 2: if waiting consumed receives, waiting runs would be dead-lettered.
      engine = await createEngine(backend, { maxReceiveCount: 2 });
    });
    afterAll(() => engine.close());

    it('never has more than `concurrency` runs started, and no waiting run is dead-lettered', async () => {
      const task = await engine.probes.create(OPERATOR, {
        orgID: 'org',
        name: 'limited',
        every: '1h',
        concurrency: 2,
        metadata: probe({ durationMs: 150 }),
      });
      const requested = [];
      for (let i = 0; i < 12; i++) requested.push(await engine.runService.runNow(OPERATOR, task.id));
      const executors = engine.startExecutors(3, 3);

      let maxStartedInStore = 0;
      await waitFor(
        async () => {
          const runs = await engine.runs.list(task.id, { limit: 100 });
          maxStartedInStore = Math.max(maxStartedInStore, runs.filter((r) => r.status === 'started').length);
          return runs.every((r) => r.status === 'success') ? runs : undefined;
        },
        { timeoutMs: 45_000, intervalMs: 20, what: 'all limited runs to succeed' },
      );
      await executors.stop();

      expect(engine.observations.maxActive.get(task.id)).toBe(2);
      expect(maxStartedInStore).toBeLessThanOrEqual(2);
      expect(engine.observations.results.filter((r) => r.outcome === 'waiting').length).toBeGreaterThan(0);
      for (const run of requested) expect(engine.observations.startsOf(run.id)).toBe(1);
      expect(await engine.queueDepth(engine.queues.dlq.url)).toBe(0);
    });
  });

  describe('crash recovery, retries, timeouts and the DLQ', () => {
    let engine: Engine;
    beforeAll(async () => {
      engine = await createEngine(backend, { maxReceiveCount: 2 });
    });
    afterAll(() => engine.close());

    it("resumes a run whose executor died: the crashed holder's lease expires", async () => {
      const task = await engine.probes.create(OPERATOR, {
        orgID: 'org',
        name: 'crashy',
        every: '1h',
        concurrency: 1,
        metadata: probe({ durationMs: 800 }),
      });
      const run = await engine.runService.runNow(OPERATOR, task.id);
      const message = engine.messageFor(run);

      // Executor A claims the run, takes the only slot, then its process freezes: no heartbeat,
      // finish or release ever reaches the table. Its claim and lease live 30 s.
      const claimTtlMs = 30_000;
      const crashed = engine.newFrozenExecutor({ claimTtlMs, heartbeatMs: 50 });
      void crashed.start(message);
      await engine.waitForStatus(run, 'started');

      // SQS redelivers. While A's lease is live, B must not start the run a second time.
      // B's clock is injected, so "A's claim expired" is a step of the test, not a sleep.
      let elapsedMs = 0;
      const recovered = engine.newExecutor({}, { now: () => Date.now() + elapsedMs });
      const early = await recovered.execute(message);
      expect(['waiting', 'duplicate']).toContain(early.outcome);

      // Once A's lease and claim expire, B takes over and the run completes.
      elapsedMs = claimTtlMs + 1_000;
      const resumed = await recovered.execute(message);
      expect(resumed.outcome).toBe('success');
      const stored = await engine.runs.get(task.id, run.id);
      expect(stored).toMatchObject({ status: 'success', claims: 2 });
      expect(stored?.log.map((l) => l.message).join('\n')).toMatch(/run resumed/);
      expect(engine.observations.startsOf(run.id)).toBe(2);
    });

    it('fails a run whose message was dead-lettered, with the reason', async () => {
      const task = await engine.probes.create(OPERATOR, {
        orgID: 'org',
        name: 'poison',
        every: '1h',
        metadata: probe(),
      });
      const run = await engine.runService.runNow(OPERATOR, task.id);
      // Nobody consumes the runs queue: receive it maxReceiveCount times without deleting, as failing executors would.
      const { ReceiveMessageCommand } = await import('@aws-sdk/client-sqs');
      for (let i = 0; i < 3; i++) {
        await engine.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: engine.queues.runs.url,
            VisibilityTimeout: 0,
            WaitTimeSeconds: 1,
            MaxNumberOfMessages: 10,
          }),
        );
      }
      const consumer = engine.startDeadLetterConsumer();
      const failed = await waitFor(
        async () => {
          const stored = await engine.runs.get(task.id, run.id);
          return stored?.status === 'failed' ? stored : undefined;
        },
        { timeoutMs: 20_000, what: 'the dead-lettered run to be failed' },
      );
      await consumer.stop();
      expect(failed.error).toMatch(/dead-lettered after \d+ delivery attempts/);
      expect(await engine.tasks.get(task.id)).toMatchObject({ lastRunStatus: 'failed' });
    });

    it('retries a failing run by policy, recording each attempt as its own run', async () => {
      const task = await engine.probes.create(OPERATOR, {
        orgID: 'org',
        name: 'flaky',
        every: '1h',
        retry: { attempts: 2, backoff: '1s' },
        metadata: probe({ fail: true }),
      });
      await engine.runService.runNow(OPERATOR, task.id);
      const executors = engine.startExecutors(1, 2);
      const runs = await waitFor(
        async () => {
          const list = await engine.runs.list(task.id, { limit: 10 });
          return list.length === 3 && list.every((r) => r.status === 'failed') ? list : undefined;
        },
        { timeoutMs: 20_000, what: 'three failed attempts' },
      );
      await executors.stop();
      const byAttempt = [...runs].sort((a, b) => a.attempt - b.attempt);
      expect(byAttempt.map((r) => r.attempt)).toEqual([1, 2, 3]);
      expect(byAttempt[1]?.retryOf).toBe(byAttempt[0]?.id);
      expect(byAttempt[2]?.retryOf).toBe(byAttempt[1]?.id);
      expect(byAttempt.every((r) => r.error === 'probe asked to fail')).toBe(true);
      expect(await engine.tasks.get(task.id)).toMatchObject({
        lastRunStatus: 'failed',
        lastRunError: 'probe asked to fail',
      });
    });

    it('fails a run that outlives its timeout', async () => {
      const task = await engine.probes.create(OPERATOR, {
        orgID: 'org',
        name: 'slow',
        every: '1h',
        timeout: '1s',
        metadata: probe({ hang: true }),
      });
      const run = await engine.runService.runNow(OPERATOR, task.id);
      const result = await engine.newExecutor().execute(engine.messageFor(run));
      expect(result.outcome).toBe('failed');
      expect(result.run?.error).toMatch(/timed out after 1000 ms/);
    });
  });

  describe('cancel wins', () => {
    let engine: Engine;
    beforeAll(async () => {
      engine = await createEngine(backend);
    });
    afterAll(() => engine.close());

    it('cancels a queued run before it starts, and the delivery then does nothing', async () => {
      const task = await engine.probes.create(OPERATOR, {
        orgID: 'org',
        name: 'later',
        every: '1h',
        metadata: probe(),
      });
      const run = await engine.runService.runNow(
        OPERATOR,
        task.id,
        new Date(Date.now() + 1500).toISOString(),
      );
      await engine.runService.cancel(OPERATOR, task.id, run.id);
      const result = await engine.newExecutor().execute(engine.messageFor(run));
      expect(result.outcome).toBe('duplicate');
      expect(engine.observations.startsOf(run.id)).toBe(0);
      expect(await engine.runs.get(task.id, run.id)).toMatchObject({ status: 'canceled' });
    });

    it('cancels a running run through the API: it ends canceled, not failed', async () => {
      const task = await engine.probes.create(OPERATOR, {
        orgID: 'org',
        name: 'long',
        every: '1h',
        metadata: probe({ hang: true }),
      });
      const run = await engine.runService.runNow(OPERATOR, task.id);
      const flight = engine.newExecutor().start(engine.messageFor(run));
      await engine.waitForStatus(run, 'started');
      await engine.runService.cancel(OPERATOR, task.id, run.id);
      const result = await flight.done();
      expect(result.outcome).toBe('canceled');
      expect(await engine.runs.get(task.id, run.id)).toMatchObject({ status: 'canceled' });
      expect(await engine.tasks.get(task.id)).toMatchObject({ lastRunStatus: 'canceled' });
    });

    it('cancels through the RunPromise', async () => {
      const task = await engine.probes.create(OPERATOR, {
        orgID: 'org',
        name: 'promise',
        every: '1h',
        metadata: probe({ hang: true }),
      });
      const run = await engine.runService.runNow(OPERATOR, task.id);
      const flight = engine.newExecutor().start(engine.messageFor(run));
      await engine.waitForStatus(run, 'started');
      flight.cancel();
      expect((await flight.done()).outcome).toBe('canceled');
      await expect(engine.runService.cancel(OPERATOR, task.id, run.id)).rejects.toMatchObject({
        code: 'conflict',
      });
    });
  });

  describe('updates apply at once', () => {
    let engine: Engine;
    beforeAll(async () => {
      engine = await createEngine(backend);
    });
    afterAll(() => engine.close());

    /** Hands every captured message to an executor, as SQS would once each delay passes. */
    const deliverAll = async (sent: ReturnType<typeof capturingQueue>['sent']) => {
      const executor = engine.newExecutor();
      const outcomes: string[] = [];
      for (const { message } of sent) outcomes.push((await executor.execute(message)).outcome);
      return outcomes;
    };

    it('drops queued runs of a replaced schedule and the next tick uses the new one', async () => {
      const task = await engine.probes.create(OPERATOR, {
        orgID: 'org',
        name: 'changing',
        every: '10s',
        metadata: probe(),
      });
      const captured = capturingQueue();
      const scheduler = engine.newScheduler(captured);
      const first = await scheduler.tick();
      expect(first.enqueued).toBeGreaterThan(0);

      // An hourly schedule whose next run is about 30 minutes away, whatever the wall clock says:
      // a plain `every: 1h` would be due within the minute just before each full hour.
      const minutesAway = (new Date().getUTCMinutes() + 30) % 60;
      const hourly = { every: '1h', ...(minutesAway > 0 ? { offset: `${minutesAway}m` } : {}) };
      const updated = await engine.probes.update(OPERATOR, task.id, hourly);
      expect(updated.revision).toBe(task.revision + 1);
      const next = await scheduler.tick();
      // The very next tick reads the new schedule: nothing of it is due within the minute.
      expect(next.enqueued).toBe(0);

      const outcomes = await deliverAll(captured.sent);
      expect(outcomes.length).toBe(first.enqueued);
      expect(new Set(outcomes)).toEqual(new Set(['dropped']));
    });

    it('stops running a deactivated or deleted task', async () => {
      const captured = capturingQueue();
      const scheduler = engine.newScheduler(captured);
      const off = await engine.probes.create(OPERATOR, {
        orgID: 'org',
        name: 'off',
        every: '5s',
        metadata: probe(),
      });
      const gone = await engine.probes.create(OPERATOR, {
        orgID: 'org',
        name: 'gone',
        every: '5s',
        metadata: probe(),
      });
      const ticked = await scheduler.tick();
      expect(ticked.enqueued).toBeGreaterThanOrEqual(2);
      await engine.probes.update(OPERATOR, off.id, { status: 'inactive' });
      await engine.probes.delete(OPERATOR, gone.id);

      const outcomes = await deliverAll(captured.sent);
      expect(outcomes.length).toBe(ticked.enqueued);
      expect(new Set(outcomes)).toEqual(new Set(['dropped']));
      expect((await scheduler.tick()).due).toBe(0);
      expect(engine.observations.starts.size).toBe(0);
    });
  });
});
