import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RunMessage } from '../../lib/run/model';
import { scheduledRunID } from '../../lib/run/run-ids';
import { taskKey } from '../../lib/store/keys';
import type { Task } from '../../lib/task/model';
import { OPERATOR } from '../../lib/task/task-service';
import { type Backend, describeEach, raceSafeBackends } from '../support/emulators';
import { createEngine, type Engine } from '../support/engine';

/**
 * The completion bookkeeping (docs/decisions/0015): latest* as the API shows them after
 * success, failure, a success after a failure, an overlap skip and a cancel, and the
 * task item written only when the outcome changes.
 */

const probe = (extra: Record<string, unknown> = {}) => ({
  durationMs: 5,
  fail: false,
  hang: false,
  ...extra,
});
const ago = (ms: number) => new Date(Date.now() - ms).toISOString();

const scheduledMessage = (task: Task, instant: number): RunMessage => ({
  taskID: task.id,
  runID: scheduledRunID(task.id, instant),
  scheduledFor: new Date(instant).toISOString(),
  kind: 'scheduled',
  attempt: 1,
  revision: task.revision,
  waits: 0,
});

describeEach(raceSafeBackends())('completion bookkeeping on $name', ({ start }) => {
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

  /** The task as the APIs show it. */
  const shown = async (id: string) => {
    const task = await engine.tasks.get(id);
    if (!task) throw new Error(`task ${id} is gone`);
    return engine.tasks.withCompletions(task);
  };
  const rawItem = async (id: string) =>
    JSON.stringify(
      (await engine.dynamo.send(new GetItemCommand({ TableName: engine.tableName, Key: marshalled(id) })))
        .Item,
    );
  const marshalled = (id: string) =>
    Object.fromEntries(Object.entries(taskKey(id)).map(([k, v]) => [k, { S: v }]));

  /** A manual run scheduled `msAgo` in the past, executed to its end. */
  async function runOnce(task: Task, msAgo: number) {
    const run = await engine.runService.runNow(OPERATOR, task.id, ago(msAgo));
    const result = await engine.newExecutor().execute(engine.messageFor(run));
    return { run, result };
  }

  it('success, a repeated success (no task write), failure, a changed error, and a success after it', async () => {
    const task = await engine.probes.create(OPERATOR, {
      orgID: 'org',
      name: 'flip',
      every: '1h',
      metadata: probe(),
    });
    expect(await shown(task.id)).toMatchObject({ lastRunStatus: undefined, latestCompleted: undefined });

    const first = await runOnce(task, 50_000);
    expect(first.result.outcome).toBe('success');
    expect(await shown(task.id)).toMatchObject({
      latestCompleted: first.run.scheduledFor,
      latestSuccess: first.run.scheduledFor,
      lastRunStatus: 'success',
      lastRunError: undefined,
      latestFailure: undefined,
    });

    // The same outcome again leaves the task item byte for byte as it was; readers fold the run in.
    const before = await rawItem(task.id);
    const second = await runOnce(task, 40_000);
    expect(second.result.outcome).toBe('success');
    expect(await rawItem(task.id)).toBe(before);
    expect(await shown(task.id)).toMatchObject({
      latestCompleted: second.run.scheduledFor,
      latestSuccess: second.run.scheduledFor,
      lastRunStatus: 'success',
    });

    const failing = await engine.probes.update(OPERATOR, task.id, { metadata: probe({ fail: true }) });
    const failed = await runOnce(failing, 30_000);
    expect(failed.result.outcome).toBe('failed');
    expect(await shown(task.id)).toMatchObject({
      latestCompleted: failed.run.scheduledFor,
      latestFailure: failed.run.scheduledFor,
      // The success before the failure, not the first success the checkpoint had.
      latestSuccess: second.run.scheduledFor,
      lastRunStatus: 'failed',
      lastRunError: 'probe asked to fail',
    });
    expect(await engine.tasks.get(task.id)).toMatchObject({ lastRunStatus: 'failed' });

    const healed = await engine.probes.update(OPERATOR, task.id, { metadata: probe() });
    const success = await runOnce(healed, 20_000);
    expect(success.result.outcome).toBe('success');
    expect(await shown(task.id)).toMatchObject({
      latestCompleted: success.run.scheduledFor,
      latestSuccess: success.run.scheduledFor,
      latestFailure: failed.run.scheduledFor,
      lastRunStatus: 'success',
      lastRunError: undefined,
    });
  });

  it('an overlap skip leaves lastRunStatus alone; a canceled run that started sets it', async () => {
    const created = await engine.probes.create(OPERATOR, {
      orgID: 'org',
      name: 'skipper',
      every: '1h',
      overlap: 'skip',
      metadata: probe(),
    });
    const ok = await runOnce(created, 120_000);
    expect(ok.result.outcome).toBe('success');

    const task = await engine.probes.update(OPERATOR, created.id, { metadata: probe({ hang: true }) });
    const holder = await engine.runService.runNow(OPERATOR, task.id, ago(60_000));
    const holding = engine.newExecutor().start(engine.messageFor(holder));
    await engine.waitForStatus(holder, 'started');
    const skipped = await engine.newExecutor().execute(scheduledMessage(task, Date.now() - 1_000));
    expect(skipped.outcome).toBe('canceled');
    expect(await shown(task.id)).toMatchObject({
      latestCompleted: ok.run.scheduledFor,
      lastRunStatus: 'success',
    });

    await engine.runService.cancel(OPERATOR, task.id, holder.id);
    expect((await holding.done()).outcome).toBe('canceled');
    expect(await shown(task.id)).toMatchObject({
      latestCompleted: holder.scheduledFor,
      latestSuccess: ok.run.scheduledFor,
      lastRunStatus: 'canceled',
      lastRunError: undefined,
    });
  });

  it('a completion that lands out of order moves only its own outcome field', async () => {
    const task = await engine.probes.create(OPERATOR, {
      orgID: 'org',
      name: 'late',
      every: '1h',
      metadata: probe(),
    });
    const newer = await runOnce(task, 10_000);
    await engine.tasks.recordCompletion(task.id, {
      scheduledFor: ago(3_600_000),
      finishedAt: new Date().toISOString(),
      status: 'failed',
      error: 'late failure',
    });
    const view = await shown(task.id);
    expect(view).toMatchObject({
      latestCompleted: newer.run.scheduledFor,
      lastRunStatus: 'success',
      lastRunError: undefined,
    });
    expect(Date.parse(view.latestFailure ?? '')).toBeLessThan(Date.parse(newer.run.scheduledFor));
  });
});
