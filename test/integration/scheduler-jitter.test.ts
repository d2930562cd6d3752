import { afterAll, beforeAll, expect, it } from 'vitest';
import { jitterOf } from '../../lib/schedule/jitter';
import { planOptionsFor } from '../../lib/scheduler/plan';
import { nearestDelaySeconds } from '../../lib/scheduler/scheduler';
import { OPERATOR } from '../../lib/task/task-service';
import { type Backend, describeEach, raceSafeBackends } from '../support/emulators';
import { capturingQueue, createEngine, type Engine } from '../support/engine';

/** The deployed default: a one-minute tick planning 15 minutes ahead. */
const FIFTEEN_MINUTES = planOptionsFor(60);
const probe = { durationMs: 5, fail: false, hang: false };
const MINUTE = 60_000;

describeEach(raceSafeBackends())('scheduler with jitter and time bounds on $name', ({ start }) => {
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

  it('delays each run to its jittered time through the due index; the run keeps its instant', async () => {
    const task = await engine.probes.create(OPERATOR, {
      orgID: 'org',
      name: 'jittered',
      every: '1m',
      offset: '5s',
      jitter: '1m',
      metadata: probe,
    });
    const stored = await engine.tasks.get(task.id);
    expect(stored).toMatchObject({ offset: '5s', jitter: '1m' });

    const now = Date.now();
    const captured = capturingQueue();
    await engine.newScheduler(captured, FIFTEEN_MINUTES, { now: () => now }).tick();
    const mine = captured.sent.filter((r) => r.message.taskID === task.id);
    expect(mine.length).toBeGreaterThanOrEqual(13);
    const offsets: number[] = [];
    for (const run of mine) {
      const scheduledFor = Date.parse(run.message.scheduledFor);
      expect(scheduledFor % MINUTE).toBe(0);
      const d = jitterOf(task.id, scheduledFor, MINUTE);
      expect(run.delaySeconds).toBe(nearestDelaySeconds(scheduledFor + 5000 + d - now));
      expect(run.delaySeconds).toBeLessThanOrEqual(900);
      offsets.push(d);
    }
    // Jittered, not just offset: the delays do not all sit 5 s after their minute.
    expect(new Set(offsets.map((d) => Math.round(d / 1000))).size).toBeGreaterThan(3);

    // The executor agrees on the run time: it records scheduledFor + offset + jitter.
    const first = mine[0];
    if (!first) throw new Error('nothing planned');
    const scheduledFor = Date.parse(first.message.scheduledFor);
    const runAt = scheduledFor + 5000 + jitterOf(task.id, scheduledFor, MINUTE);
    const outcome = await engine.newExecutor({}, { now: () => runAt }).execute(first.message);
    expect(outcome.outcome).toBe('success');
    const run = await engine.runs.get(task.id, first.message.runID);
    expect(run).toMatchObject({
      scheduledFor: first.message.scheduledFor,
      runAt: new Date(runAt).toISOString(),
    });
  });

  it('plans no instant before startAt or after endAt, then leaves the due index', async () => {
    const minute = Math.ceil(Date.now() / MINUTE) * MINUTE;
    const startAt = new Date(minute + 3 * MINUTE).toISOString();
    const endAt = new Date(minute + 6 * MINUTE + 30_000).toISOString();
    const task = await engine.probes.create(OPERATOR, {
      orgID: 'org',
      name: 'bounded',
      every: '1m',
      startAt,
      endAt,
      metadata: probe,
    });
    expect(task.nextRunAt).toBe(startAt);

    // The due index hands the task over two ticks before its first run, not before.
    const early = capturingQueue();
    await engine.newScheduler(early, FIFTEEN_MINUTES).tick();
    expect(early.sent.filter((r) => r.message.taskID === task.id)).toHaveLength(0);
    const inTime = () => minute + 2 * MINUTE;
    const captured = capturingQueue();
    await engine.newScheduler(captured, FIFTEEN_MINUTES, { now: inTime }).tick();
    const instants = captured.sent
      .filter((r) => r.message.taskID === task.id)
      .map((r) => r.message.scheduledFor);
    expect(instants).toEqual([3, 4, 5, 6].map((n) => new Date(minute + n * MINUTE).toISOString()));
    const after = await engine.tasks.get(task.id);
    expect(after?.nextRunAt).toBeUndefined();
    expect(after).toMatchObject({ startAt, endAt, status: 'active' });

    const again = capturingQueue();
    await engine.newScheduler(again, FIFTEEN_MINUTES, { now: () => minute + 20 * MINUTE }).tick();
    expect(again.sent.filter((r) => r.message.taskID === task.id)).toHaveLength(0);
  });

  it('a task whose startAt is far ahead is not read until then; PATCH null clears the bounds', async () => {
    const startAt = new Date(Date.now() + 2 * 3_600_000).toISOString();
    const task = await engine.probes.create(OPERATOR, {
      orgID: 'org',
      name: 'later',
      every: '1m',
      startAt,
      metadata: probe,
    });
    const captured = capturingQueue();
    const report = await engine.newScheduler(captured, FIFTEEN_MINUTES).tick();
    expect(captured.sent.filter((r) => r.message.taskID === task.id)).toHaveLength(0);
    expect(report.due).toBe(0);

    const cleared = await engine.probes.update(OPERATOR, task.id, { startAt: null, jitter: '30s' });
    expect(cleared.startAt).toBeUndefined();
    expect(await engine.tasks.get(task.id)).toMatchObject({ jitter: '30s' });
    const planned = capturingQueue();
    await engine.newScheduler(planned, FIFTEEN_MINUTES).tick();
    expect(planned.sent.filter((r) => r.message.taskID === task.id).length).toBeGreaterThanOrEqual(14);
  });
});
