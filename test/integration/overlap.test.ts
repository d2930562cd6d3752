import { afterAll, beforeAll, expect, it } from 'vitest';
import { InvalidError } from '../../lib/errors';
import { BACKFILL_MAX_INSTANTS, backfillInstants } from '../../lib/run/backfill';
import type { Run, RunMessage } from '../../lib/run/model';
import { scheduledRunID } from '../../lib/run/run-ids';
import type { Task } from '../../lib/task/model';
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
const MINUTE = 60_000;

/** The scheduler's message for one instant of `task`. */
const scheduledMessage = (task: Task, instant: number): RunMessage => ({
  taskID: task.id,
  runID: scheduledRunID(task.id, instant),
  scheduledFor: new Date(instant).toISOString(),
  kind: 'scheduled',
  attempt: 1,
  revision: task.revision,
  waits: 0,
});

describeEach(raceSafeBackends())('overlap policies and backfill on $name', ({ start }) => {
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

  /** A task whose one slot is held by a hanging manual run. */
  async function heldTask(name: string, overlap: 'skip' | 'replace') {
    const task = await engine.probes.create(OPERATOR, {
      orgID: 'org',
      name,
      every: '1h',
      overlap,
      metadata: probe({ hang: true }),
    });
    const holder = await engine.runService.runNow(OPERATOR, task.id, ago(60_000));
    const holding = engine.newExecutor().start(engine.messageFor(holder));
    await engine.waitForStatus(holder, 'started');
    return { task, holder, holding };
  }

  it('skip: records a busy instant as canceled, never started, leaving lastRunStatus alone', async () => {
    const { task, holder, holding } = await heldTask('skipper', 'skip');
    expect(task.concurrency).toBe(1);
    const instant = Date.now() - 1_000;
    const result = await engine.newExecutor().execute(scheduledMessage(task, instant));
    expect(result.outcome).toBe('canceled');
    const skipped = await engine.runs.get(task.id, scheduledRunID(task.id, instant));
    expect(skipped).toMatchObject({
      status: 'canceled',
      kind: 'scheduled',
      error: 'run skipped: 1 run was still running (overlap: skip)',
    });
    expect(skipped?.startedAt).toBeUndefined();
    expect(skipped?.log.map((l) => l.message)).toEqual([
      'run skipped: 1 run was still running (overlap: skip)',
    ]);
    expect(engine.observations.startsOf(skipped?.id ?? '')).toBe(0);
    // A redelivery of the same instant leaves the record as it is.
    expect((await engine.newExecutor().execute(scheduledMessage(task, instant))).outcome).toBe('duplicate');
    expect((await engine.tasks.get(task.id))?.lastRunStatus).toBeUndefined();

    holding.cancel();
    expect((await holding.done()).outcome).toBe('canceled');
    expect(engine.observations.maxActive.get(task.id)).toBe(1);
    expect(engine.observations.startsOf(holder.id)).toBe(1);
  });

  it('replace: cancels the oldest running run through its signal and the new run takes its slot', async () => {
    const { task, holder, holding } = await heldTask('replacer', 'replace');
    const newer = await engine.runService.runNow(OPERATOR, task.id, ago(1_000));
    const waited = await engine.newExecutor().execute(engine.messageFor(newer));
    expect(waited).toMatchObject({ outcome: 'waiting' });
    expect(waited.reason).toContain(`replacing run ${holder.id}`);
    // The holder's cancel poll sees the request and aborts its runner.
    expect((await holding.done()).outcome).toBe('canceled');
    const executors = engine.startExecutors(1, 2);
    try {
      await engine.waitForStatus(newer, 'started');
    } finally {
      await engine.runService.cancel(OPERATOR, task.id, newer.id);
      await engine.waitForStatus(newer, 'canceled');
      await executors.stop();
    }
    expect((await engine.runs.get(task.id, holder.id))?.status).toBe('canceled');
    expect(engine.observations.startsOf(holder.id)).toBe(1);
    expect(engine.observations.startsOf(newer.id)).toBe(1);
    expect(engine.observations.maxActive.get(task.id)).toBe(1);
  });

  it('replace never cancels a run a released slot was handed to before it starts', async () => {
    const task = await engine.probes.create(OPERATOR, {
      orgID: 'org',
      name: 'replace-hand-over',
      every: '1h',
      overlap: 'replace',
      metadata: probe({ hang: true }),
    });
    const holder = await engine.runService.runNow(OPERATOR, task.id, ago(30_000));
    const wakes = capturingQueue();
    const holding = engine.newExecutor({}, { queue: wakes }).start(engine.messageFor(holder));
    await engine.waitForStatus(holder, 'started');
    // A newer run replaces the holder: the holder stops and hands its slot to it.
    const replacing = await engine.runService.runNow(OPERATOR, task.id, ago(1_000));
    expect(
      (await engine.newExecutor({}, { queue: capturingQueue() }).execute(engine.messageFor(replacing)))
        .reason,
    ).toContain(`replacing run ${holder.id}`);
    expect((await holding.done()).outcome).toBe('canceled');
    expect((await engine.leases.slots(task.id)).map((s) => s.runID)).toEqual([replacing.id]);

    // Before its wake arrives, an older instant comes in: the slot's holder has not started, so nothing is replaced.
    const older = await engine.runService.runNow(OPERATOR, task.id, ago(20_000));
    const late = await engine.newExecutor({}, { queue: capturingQueue() }).execute(engine.messageFor(older));
    expect(late).toMatchObject({
      outcome: 'waiting',
      reason: 'waiting for a concurrency slot: 1 of 1 running',
    });
    expect((await engine.runs.get(task.id, replacing.id))?.status).toBe('scheduled');

    const wake = wakes.sent.find((s) => s.message.runID === replacing.id)?.message;
    if (!wake) throw new Error('no wake');
    const started = engine.newExecutor().start(wake);
    await engine.waitForStatus(replacing, 'started');
    expect(engine.observations.startsOf(replacing.id)).toBe(1);
    started.cancel();
    expect((await started.done()).outcome).toBe('canceled');
    await engine.runService.cancel(OPERATOR, task.id, older.id);
  });

  it('replace, crash: the old run’s executor dies mid-cancel; the old run ends canceled, is not run again, and the new one starts once', async () => {
    const task = await engine.probes.create(OPERATOR, {
      orgID: 'org',
      name: 'replace-crash',
      every: '1h',
      overlap: 'replace',
      metadata: probe({ durationMs: 100 }),
    });
    const old = await engine.runService.runNow(OPERATOR, task.id, ago(60_000));
    // The old run's executor claims the slot, then freezes: it never heartbeats, polls or finishes.
    void engine
      .newFrozenExecutor({ claimTtlMs: 300, heartbeatMs: 100, cancelPollMs: 60_000 })
      .start(engine.messageFor(old));
    await engine.waitForStatus(old, 'started');
    const newer = await engine.runService.runNow(OPERATOR, task.id, ago(1_000));
    const waited = await engine.newExecutor().execute(engine.messageFor(newer));
    expect(waited.outcome).toBe('waiting');
    expect((await engine.runs.get(task.id, old.id))?.cancelRequested).toBe(true);

    const executors = engine.startExecutors(2, 2);
    try {
      await waitFor(
        async () => ((await engine.runs.get(task.id, newer.id))?.status === 'success' ? true : undefined),
        { timeoutMs: 30_000, what: 'the replacing run to succeed' },
      );
    } finally {
      await executors.stop();
    }
    const ended = await engine.runs.get(task.id, old.id);
    expect(ended?.status).toBe('canceled');
    expect(ended?.log.map((l) => l.message).join('\n')).toMatch(
      /its executor stopped before it could stop it/,
    );
    expect(engine.observations.startsOf(old.id)).toBe(1);
    expect(engine.observations.startsOf(newer.id)).toBe(1);
  });

  it('backfill: one run per instant in [start, end), started oldest first, and a repeat runs nothing twice', async () => {
    const task = await engine.probes.create(OPERATOR, {
      orgID: 'org',
      name: 'backfilled',
      every: '1m',
      concurrency: 1,
      metadata: probe({ durationMs: 30 }),
    });
    const end = Math.floor(Date.now() / MINUTE) * MINUTE - 10 * MINUTE;
    const start = end - 6 * MINUTE;
    const range = { start: new Date(start).toISOString(), end: new Date(end).toISOString() };
    // One instant of the range already ran: the backfill leaves it alone.
    await engine.newExecutor().execute(scheduledMessage(task, start + 2 * MINUTE));
    const startsBefore = engine.observations.startOrder.length;

    const first = await engine.runService.backfill(OPERATOR, task.id, range);
    expect(first).toEqual({ runs: 6, created: 5 });
    const expected = [0, 1, 3, 4, 5].map((i) => scheduledRunID(task.id, start + i * MINUTE));
    const executors = engine.startExecutors(2, 2);
    try {
      await waitFor(
        async () => {
          const runs = await engine.runs.list(task.id, { limit: 20 });
          const done = runs.filter((r) => expected.includes(r.id) && r.status === 'success');
          return done.length === expected.length ? true : undefined;
        },
        { timeoutMs: 30_000, what: 'every backfilled run to succeed' },
      );
      expect(await engine.runService.backfill(OPERATOR, task.id, range)).toEqual({ runs: 6, created: 0 });
    } finally {
      await executors.stop();
    }
    const started = engine.observations.startOrder.slice(startsBefore).filter((id) => expected.includes(id));
    expect(started).toEqual(expected);
    for (const id of expected) expect(engine.observations.startsOf(id)).toBe(1);
    expect(engine.observations.startsOf(scheduledRunID(task.id, start + 2 * MINUTE))).toBe(1);
    const stored = await engine.runs.get(task.id, expected[0] ?? '');
    expect(stored).toMatchObject({ kind: 'backfill', overlap: 'queue' });
    expect(engine.observations.maxActive.get(task.id)).toBe(1);
  });

  it('backfill refuses a bad range, an inactive task and more than 10,000 instants', async () => {
    const task = await engine.probes.create(OPERATOR, {
      orgID: 'org',
      name: 'backfill-checks',
      every: '1s',
      metadata: probe(),
    });
    const now = Date.now();
    const iso = (ms: number) => new Date(ms).toISOString();
    const refused = async (request: { start: string; end: string }, message: RegExp) => {
      const attempt = engine.runService.backfill(OPERATOR, task.id, request);
      await expect(attempt).rejects.toBeInstanceOf(InvalidError);
      await expect(attempt).rejects.toThrow(message);
    };
    await refused({ start: iso(now - 5_000), end: iso(now - 5_000) }, /end must be after start/);
    await refused({ start: iso(now - 5_000), end: iso(now + 60_000) }, /end must not be in the future/);
    const base = Math.floor(now / 1000) * 1000 - 20_000_000;
    await refused({ start: iso(base), end: iso(base + 10_001_000) }, /more than 10000 schedule instants/);
    await engine.probes.update(OPERATOR, task.id, { status: 'inactive' });
    await refused({ start: iso(now - 5_000), end: iso(now - 1_000) }, /task is inactive/);
    expect(await engine.runs.list(task.id, { limit: 5 })).toEqual([]);
  });

  it('backfill, crash: a backfill that dies midway has stored only whole runs, and repeating it completes the rest once', async () => {
    const task = await engine.probes.create(OPERATOR, {
      orgID: 'org',
      name: 'backfill-crash',
      every: '1m',
      metadata: probe(),
    });
    const end = Math.floor(Date.now() / MINUTE) * MINUTE - 5 * MINUTE;
    const start = end - 40 * MINUTE;
    const range = { start: new Date(start).toISOString(), end: new Date(end).toISOString() };
    let writes = 0;
    const create = crashOn(engine.runs.create, 'backfill midway', {
      times: 1_000,
      when: () => ++writes > 30,
    });
    const dying = engine.createRunService({ runs: { ...engine.runs, create } }).forSystem(engine.probes);
    await expect(dying.backfill(OPERATOR, task.id, range)).rejects.toBeInstanceOf(InjectedCrash);
    const storedBefore = await engine.runs.list(task.id, { limit: 100 });
    expect(storedBefore.length).toBe(30);
    // Those stored are in the open index, unsent: the reconciler delivers them once they are overdue.
    for (const run of storedBefore)
      expect((await engine.runs.inspect(task.id, run.id))?.openAt).toBeDefined();
    const later = engine.newReconciler({ now: () => Date.now() + 2 * MINUTE });
    expect((await later.reconcile()).requeued).toBe(30);

    expect(await engine.runService.backfill(OPERATOR, task.id, range)).toEqual({ runs: 40, created: 10 });
    const executors = engine.startExecutors(2, 2);
    let runs: Run[] = [];
    try {
      runs = await waitFor(
        async () => {
          const all = await engine.runs.list(task.id, { limit: 100 });
          return all.length === 40 && all.every((r) => r.status === 'success') ? all : undefined;
        },
        { timeoutMs: 60_000, what: 'all 40 backfilled runs to succeed' },
      );
    } finally {
      await executors.stop();
    }
    for (const run of runs) expect(engine.observations.startsOf(run.id)).toBe(1);
  });
});

it('backfill allows exactly 10,000 instants and counts [start, end) of a cron schedule', () => {
  const task = { every: '1s' } as Task;
  const start = Date.parse('2026-01-01T00:00:00Z');
  expect(backfillInstants(task, start, start + BACKFILL_MAX_INSTANTS * 1000)).toHaveLength(10_000);
  expect(() => backfillInstants(task, start, start + BACKFILL_MAX_INSTANTS * 1000 + 1)).toThrow(InvalidError);
  const hourly = { cron: '0 * * * *', timezone: 'UTC' } as Task;
  const instants = backfillInstants(hourly, start, start + 3 * 3_600_000);
  expect(instants.map((t) => new Date(t).toISOString())).toEqual([
    '2026-01-01T00:00:00.000Z',
    '2026-01-01T01:00:00.000Z',
    '2026-01-01T02:00:00.000Z',
  ]);
});

it("backfill runs no instant outside the task's own startAt and endAt (both included)", () => {
  const start = Date.parse('2026-01-01T00:00:00Z');
  const bounded = {
    every: '1m',
    startAt: '2026-01-01T00:02:00Z',
    endAt: '2026-01-01T00:04:00Z',
  } as Task;
  const instants = backfillInstants(bounded, start, start + 10 * 60_000);
  expect(instants.map((t) => new Date(t).toISOString())).toEqual([
    '2026-01-01T00:02:00.000Z',
    '2026-01-01T00:03:00.000Z',
    '2026-01-01T00:04:00.000Z',
  ]);
  // A range wholly outside the bounds holds nothing, and is no error.
  expect(backfillInstants(bounded, start + 20 * 60_000, start + 30 * 60_000)).toEqual([]);
  // The range's own end stays exclusive inside the bounds.
  expect(backfillInstants(bounded, start, start + 4 * 60_000)).toHaveLength(2);
});
