import { afterAll, beforeAll, expect, it } from 'vitest';
import { clampDelay } from '../../lib/queue/run-queue';
import { scheduledRunID } from '../../lib/run/run-ids';
import { OPERATOR } from '../../lib/task/task-service';
import { type Backend, describeEach, raceSafeBackends, waitFor } from '../support/emulators';
import { capturingQueue, createEngine, type Engine } from '../support/engine';
import { crashOn, InjectedCrash } from '../support/faults';

const probe = (extra: Record<string, unknown> = {}) => ({
  durationMs: 20,
  fail: false,
  hang: false,
  ...extra,
});
const ago = (ms: number) => new Date(Date.now() - ms).toISOString();

describeEach(raceSafeBackends())('waiting for a concurrency slot on $name', ({ start }) => {
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

  it('shows waiting runs as scheduled with why, hands a freed slot to the oldest, and lets no newer run overtake', async () => {
    const task = await engine.probes.create(OPERATOR, {
      orgID: 'org',
      name: 'one-at-a-time',
      every: '1h',
      concurrency: 1,
      metadata: probe({ hang: true }),
    });
    const holder = await engine.runService.runNow(OPERATOR, task.id, ago(500));
    const holding = engine.newExecutor().start(engine.messageFor(holder));
    await engine.waitForStatus(holder, 'started');

    // Three older runs arrive out of order while the slot is held.
    const [w1, w2, w3] = [
      await engine.runService.runNow(OPERATOR, task.id, ago(3_000)),
      await engine.runService.runNow(OPERATOR, task.id, ago(2_000)),
      await engine.runService.runNow(OPERATOR, task.id, ago(1_000)),
    ];
    if (!w1 || !w2 || !w3) throw new Error('no runs');
    const arriving = engine.newExecutor();
    for (const run of [w3, w1, w2]) {
      expect((await arriving.execute(engine.messageFor(run))).outcome).toBe('waiting');
    }
    // Each says why it waits; w2 arrived after the older w1 was already waiting.
    const why = 'waiting for a concurrency slot: 1 of 1 running';
    for (const [run, reason] of [
      [w1, why],
      [w2, `${why}, older runs go first`],
      [w3, why],
    ] as const) {
      const listed = await engine.runService.get(OPERATOR, task.id, run.id);
      expect(listed.status).toBe('scheduled');
      expect(listed.log.map((l) => l.message)).toEqual([reason]);
    }

    // The holder ends and hands its slot to the oldest waiter; before that waiter's message
    // is back, a newer run arrives: the slot is not free for it.
    holding.cancel();
    expect((await holding.done()).outcome).toBe('canceled');
    expect((await engine.leases.slots(task.id)).map((s) => s.runID)).toEqual([w1.id]);
    const newer = await engine.runService.runNow(OPERATOR, task.id);
    const late = await arriving.execute(engine.messageFor(newer));
    expect(late).toMatchObject({
      outcome: 'waiting',
      reason: 'waiting for a concurrency slot: 1 of 1 running, older runs go first',
    });
    expect((await engine.runs.list(task.id, { limit: 10 })).filter((r) => r.status === 'started')).toEqual(
      [],
    );

    // Each run, once started, is canceled to free the slot for the next.
    const executors = engine.startExecutors(2, 2);
    try {
      const order: string[] = [];
      for (let i = 0; i < 4; i++) {
        const started = await waitFor(
          async () => {
            const runs = await engine.runs.list(task.id, { limit: 10 });
            const live = runs.filter((r) => r.status === 'started');
            expect(live.length).toBeLessThanOrEqual(1);
            return live[0];
          },
          { timeoutMs: 20_000, what: `start number ${i + 1}` },
        );
        order.push(started.id);
        await engine.runService.cancel(OPERATOR, task.id, started.id);
        await engine.waitForStatus(started, 'canceled');
      }
      expect(order).toEqual([w1.id, w2.id, w3.id, newer.id]);
    } finally {
      await executors.stop();
    }
    expect(engine.observations.maxActive.get(task.id)).toBe(1);
  });

  it('never shows more than `concurrency` started runs when a holder dies, and resumes the dead one', async () => {
    const task = await engine.probes.create(OPERATOR, {
      orgID: 'org',
      name: 'holder-dies',
      every: '1h',
      concurrency: 1,
      metadata: probe({ durationMs: 150 }),
    });
    const first = await engine.runService.runNow(OPERATOR, task.id, ago(2_000));
    // Executor A claims the run, takes the only slot, then its process freezes.
    void engine.newFrozenExecutor({ claimTtlMs: 300, heartbeatMs: 100 }).start(engine.messageFor(first));
    await engine.waitForStatus(first, 'started');

    let sampling = true;
    let maxStarted = 0;
    const sampler = (async () => {
      while (sampling) {
        const runs = await engine.runs.list(task.id, { limit: 10 });
        maxStarted = Math.max(maxStarted, runs.filter((r) => r.status === 'started').length);
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    const second = await engine.runService.runNow(OPERATOR, task.id, ago(1_000));
    const executors = engine.startExecutors(2, 2);
    try {
      for (const run of [first, second]) {
        await waitFor(
          async () => ((await engine.runs.get(task.id, run.id))?.status === 'success' ? true : undefined),
          {
            timeoutMs: 30_000,
            what: `run ${run.id} to succeed`,
          },
        );
      }
    } finally {
      sampling = false;
      await sampler;
      await executors.stop();
    }
    expect(maxStarted).toBe(1);
    expect(engine.observations.maxActive.get(task.id)).toBe(1);
    const resumed = await engine.runs.get(task.id, first.id);
    const log = resumed?.log.map((l) => l.message).join('\n') ?? '';
    expect(log).toMatch(/the executor running this run stopped; it waits for a concurrency slot again/);
    expect(log).toMatch(/run resumed/);
    expect(engine.observations.startsOf(first.id)).toBe(2);
    expect(engine.observations.startsOf(second.id)).toBe(1);
  });

  it('keeps one message per waiting run, and ends a waiting run whose schedule changed', async () => {
    const task = await engine.probes.create(OPERATOR, {
      orgID: 'org',
      name: 'copies',
      every: '10s',
      concurrency: 1,
      metadata: probe({ hang: true }),
    });
    const holder = await engine.runService.runNow(OPERATOR, task.id, ago(100));
    const holding = engine.newExecutor().start(engine.messageFor(holder));
    await engine.waitForStatus(holder, 'started');

    const scheduledFor = Math.floor((Date.now() - 1_000) / 10_000) * 10_000;
    const message = {
      taskID: task.id,
      runID: scheduledRunID(task.id, scheduledFor),
      scheduledFor: new Date(scheduledFor).toISOString(),
      kind: 'scheduled' as const,
      attempt: 1,
      revision: task.revision,
      waits: 0,
    };
    const sent = capturingQueue();
    const executor = engine.newExecutor({ waitBaseDelaySeconds: 5 }, { queue: sent });
    // SQS duplicates: three copies of one waiting run's message.
    const outcomes = [];
    for (let i = 0; i < 3; i++) outcomes.push((await executor.execute(message)).outcome);
    expect(outcomes).toEqual(['waiting', 'duplicate', 'duplicate']);
    expect(sent.sent).toHaveLength(1);
    // The one copy that carries it may go on waiting.
    const carrier = sent.sent[0]?.message;
    if (!carrier) throw new Error('no carrier');
    expect((await executor.execute(carrier)).outcome).toBe('waiting');
    expect(sent.sent).toHaveLength(2);

    // The schedule changes while it waits: its next delivery ends it instead of keeping it open.
    await engine.probes.update(OPERATOR, task.id, { every: '20s' });
    const latest = sent.sent[1]?.message;
    if (!latest) throw new Error('no second carrier');
    expect((await executor.execute(latest)).outcome).toBe('dropped');
    const ended = await engine.runs.get(task.id, message.runID);
    expect(ended?.status).toBe('canceled');
    expect(ended?.log.at(-1)?.message).toBe(
      'run dropped: the task schedule changed after this run was queued',
    );
    holding.cancel();
    await holding.done();
  });

  it('sends waiting runs back after whole seconds, jitter included, so SQS keeps the jitter', async () => {
    const task = await engine.probes.create(OPERATOR, {
      orgID: 'org',
      name: 'jitter',
      every: '1h',
      concurrency: 1,
      metadata: probe({ hang: true }),
    });
    const holder = await engine.runService.runNow(OPERATOR, task.id, ago(100));
    const holding = engine.newExecutor().start(engine.messageFor(holder));
    await engine.waitForStatus(holder, 'started');
    const delayWith = async (random: number) => {
      const run = await engine.runService.runNow(OPERATOR, task.id, ago(50));
      const sent = capturingQueue();
      const executor = engine.newExecutor(
        { waitBaseDelaySeconds: 8, waitMaxDelaySeconds: 30 },
        { queue: sent, random: () => random },
      );
      expect((await executor.execute(engine.messageFor(run))).outcome).toBe('waiting');
      return sent.sent[0]?.delaySeconds ?? Number.NaN;
    };
    const low = await delayWith(0);
    const high = await delayWith(0.999);
    for (const delay of [low, high]) {
      expect(Number.isInteger(delay)).toBe(true);
      expect(clampDelay(delay)).toBe(delay);
    }
    expect(high - low).toBeGreaterThanOrEqual(4);
    holding.cancel();
    await holding.done();
  });

  it('hands a released slot to the oldest waiter even if it was woken moments before, and onlookers do not wake it again', async () => {
    const task = await engine.probes.create(OPERATOR, {
      orgID: 'org',
      name: 'hand-over',
      every: '1h',
      concurrency: 1,
      metadata: probe({ hang: true }),
    });
    const holder = await engine.runService.runNow(OPERATOR, task.id, ago(500));
    const handedOver = capturingQueue();
    const holding = engine.newExecutor({}, { queue: handedOver }).start(engine.messageFor(holder));
    await engine.waitForStatus(holder, 'started');
    const waiter = await engine.runService.runNow(OPERATOR, task.id, ago(400));
    expect(
      (await engine.newExecutor({}, { queue: capturingQueue() }).execute(engine.messageFor(waiter))).outcome,
    ).toBe('waiting');
    // Someone woke it a moment ago, while the slot was still taken: that wake was wasted.
    expect(await engine.leases.markWoken(task.id, waiter.id, Date.now(), 0)).toBe(true);

    holding.cancel();
    expect((await holding.done()).outcome).toBe('canceled');
    const wakes = handedOver.sent.filter((s) => s.message.runID === waiter.id);
    expect(wakes.map((s) => s.delaySeconds)).toEqual([0]);

    // Until the woken run arrives, it holds the handed-over slot: runs passing by wait,
    // and leave the hand-over to the wake already on its way.
    expect((await engine.leases.slots(task.id)).map((s) => s.runID)).toEqual([waiter.id]);
    const onlookers = [];
    for (const offset of [300, 200, 100]) {
      const run = await engine.runService.runNow(OPERATOR, task.id, ago(offset));
      const sent = capturingQueue();
      const result = await engine.newExecutor({}, { queue: sent }).execute(engine.messageFor(run));
      expect(result.reason).toBe('waiting for a concurrency slot: 1 of 1 running, older runs go first');
      expect(sent.sent.filter((s) => s.message.runID === waiter.id)).toEqual([]);
      onlookers.push(run);
    }

    const woken = wakes[0]?.message;
    if (!woken) throw new Error('no wake');
    const started = engine.newExecutor().start(woken);
    await engine.waitForStatus(waiter, 'started');
    started.cancel();
    expect((await started.done()).outcome).toBe('canceled');
    for (const run of onlookers) await engine.runService.cancel(OPERATOR, task.id, run.id);
  });

  it('a crash between handing the slot over and waking the waiter: the slot lapses, and the waiter still starts before newer runs', async () => {
    const task = await engine.probes.create(OPERATOR, {
      orgID: 'org',
      name: 'wake-lost',
      every: '1h',
      concurrency: 1,
      metadata: probe({ hang: true }),
    });
    const holder = await engine.runService.runNow(OPERATOR, task.id, ago(500));
    const wakes = capturingQueue();
    const crashingWake = crashOn(wakes.enqueueOne, 'executor, after the hand-over, before the wake');
    const holding = engine
      .newExecutor({ claimTtlMs: 300, heartbeatMs: 100 }, { queue: { ...wakes, enqueueOne: crashingWake } })
      .start(engine.messageFor(holder));
    await engine.waitForStatus(holder, 'started');
    const waiter = await engine.runService.runNow(OPERATOR, task.id, ago(400));
    const carriers = capturingQueue();
    expect(
      (await engine.newExecutor({}, { queue: carriers }).execute(engine.messageFor(waiter))).outcome,
    ).toBe('waiting');

    // The holder ends: its slot goes to the waiter, and the process dies before the wake leaves.
    holding.cancel();
    await expect(holding.done()).rejects.toBeInstanceOf(InjectedCrash);
    expect(crashingWake.crashes()).toBe(1);
    expect(wakes.sent).toEqual([]);
    expect((await engine.leases.slots(task.id)).map((s) => s.runID)).toEqual([waiter.id]);

    // A newer run sees the slot held for an older waiter and waits behind it.
    const newer = await engine.runService.runNow(OPERATOR, task.id, ago(100));
    const behind = await engine
      .newExecutor({}, { queue: capturingQueue() })
      .execute(engine.messageFor(newer));
    expect(behind.reason).toBe('waiting for a concurrency slot: 1 of 1 running, older runs go first');

    // The handed-over slot lapses like any unheld slot; the waiter's own message starts it.
    await waitFor(
      async () =>
        (await engine.leases.slots(task.id)).every((slot) => slot.expiresAtMs < Date.now())
          ? true
          : undefined,
      { what: 'the handed-over slot to lapse' },
    );
    const carrier = carriers.sent.find((s) => s.message.runID === waiter.id)?.message;
    if (!carrier) throw new Error('the waiting run kept no message');
    const resumed = engine.newExecutor().start(carrier);
    await engine.waitForStatus(waiter, 'started');
    expect((await engine.runs.get(task.id, newer.id))?.status).toBe('scheduled');
    expect(engine.observations.maxActive.get(task.id)).toBe(1);
    resumed.cancel();
    expect((await resumed.done()).outcome).toBe('canceled');
    await engine.runService.cancel(OPERATOR, task.id, newer.id);
  });

  it('a crash between storing a waiting run and its marker: the next wait writes the marker, so no newer run overtakes it', async () => {
    const task = await engine.probes.create(OPERATOR, {
      orgID: 'org',
      name: 'marker-lost',
      every: '1h',
      concurrency: 1,
      metadata: probe({ hang: true }),
    });
    const holder = await engine.runService.runNow(OPERATOR, task.id, ago(500));
    const holding = engine.newExecutor().start(engine.messageFor(holder));
    await engine.waitForStatus(holder, 'started');
    const waiter = await engine.runService.runNow(OPERATOR, task.id, ago(400));
    const crashing = engine.newExecutor(
      { claimTtlMs: 300 },
      {
        queue: capturingQueue(),
        leases: {
          ...engine.leases,
          addWaiter: crashOn(engine.leases.addWaiter, 'executor, before the marker'),
        },
      },
    );
    await expect(crashing.execute(engine.messageFor(waiter))).rejects.toBeInstanceOf(InjectedCrash);
    expect(await engine.runs.get(task.id, waiter.id)).toMatchObject({ status: 'scheduled' });

    // Its message never left: once overdue, the reconciler sends it, and that wait writes the marker.
    const sent = capturingQueue();
    const reconciler = engine.newReconciler({ queue: sent, graceMs: 300 });
    await waitFor(async () => ((await reconciler.reconcile()).requeued > 0 ? true : undefined), {
      timeoutMs: 10_000,
      intervalMs: 100,
      what: 'the reconciler to send the waiting run',
    });
    const redelivered = sent.sent.find((s) => s.message.runID === waiter.id)?.message;
    if (!redelivered) throw new Error('not sent');
    expect((await engine.newExecutor({}, { queue: capturingQueue() }).execute(redelivered)).outcome).toBe(
      'waiting',
    );
    const newer = await engine.runService.runNow(OPERATOR, task.id, ago(100));
    const late = await engine.newExecutor({}, { queue: capturingQueue() }).execute(engine.messageFor(newer));
    expect(late.reason).toBe('waiting for a concurrency slot: 1 of 1 running, older runs go first');

    for (const run of [waiter, newer]) await engine.runService.cancel(OPERATOR, task.id, run.id);
    holding.cancel();
    await holding.done();
  });
});
