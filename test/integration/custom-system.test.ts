import { afterAll, beforeAll, expect, it } from 'vitest';
import * as z from 'zod';
import { createRunnerRegistry, defineSystem, runnable } from '../../lib/systems/system';
import { OPERATOR } from '../../lib/task/task-service';
import { type Backend, describeEach, raceSafeBackends } from '../support/emulators';
import { createEngine, type Engine } from '../support/engine';

/**
 * A team adds a system by writing one module: a type, a metadata schema and a
 * runner (its HTTP translation would sit beside them). This one exists only here.
 */
const backupMetadata = z.strictObject({ bucket: z.string().min(3), retainDays: z.number().int().positive() });
const backupSystem = defineSystem({ type: 'backup', metadata: backupMetadata });
const backedUp: { bucket: string; runID: string }[] = [];
const backupRunnable = runnable(backupSystem, async ({ task, run, log }) => {
  backedUp.push({ bucket: task.metadata.bucket, runID: run.runID });
  log(`backed up to ${task.metadata.bucket}, kept ${task.metadata.retainDays} days`);
});

describeEach(raceSafeBackends())('a fourth, test-only system on $name', ({ start }) => {
  let backend: Backend;
  let engine: Engine;

  beforeAll(async () => {
    backend = await start();
    engine = await createEngine(backend, { systems: [backupRunnable] });
  });
  afterAll(async () => {
    await engine.close();
    await backend.stop();
  });

  it('runs its tasks with its own runner and metadata', async () => {
    const backups = engine.taskService.forSystem(backupSystem);
    const task = await backups.create(OPERATOR, {
      orgID: 'org',
      name: 'nightly',
      cron: '0 3 * * *',
      metadata: { bucket: 's3://backups', retainDays: 30 },
    });
    expect(task.type).toBe('backup');
    const run = await engine.createRunService().forSystem(backups).runNow(OPERATOR, task.id);
    const result = await engine.newExecutor().execute({
      taskID: task.id,
      runID: run.id,
      scheduledFor: run.scheduledFor,
      kind: 'manual',
      attempt: 1,
      waits: 0,
    });
    expect(result.outcome).toBe('success');
    expect(backedUp).toContainEqual({ bucket: 's3://backups', runID: run.id });
    expect(result.run?.log.map((l) => l.message)).toContain('backed up to s3://backups, kept 30 days');
  });

  it('validates its own metadata and stays isolated from the other systems', async () => {
    const backups = engine.taskService.forSystem(backupSystem);
    await expect(
      backups.create(OPERATOR, {
        orgID: 'org',
        name: 'bad',
        every: '1h',
        metadata: { bucket: 'x', retainDays: 0 },
      }),
    ).rejects.toMatchObject({ code: 'invalid' });

    const backup = await backups.create(OPERATOR, {
      orgID: 'iso',
      name: 'b',
      every: '1h',
      metadata: { bucket: 's3://b', retainDays: 1 },
    });
    const probe = await engine.probes.create(OPERATOR, {
      orgID: 'iso',
      name: 'p',
      every: '1h',
      metadata: { durationMs: 1, fail: false, hang: false },
    });

    await expect(engine.probes.get(OPERATOR, backup.id)).rejects.toMatchObject({ code: 'not found' });
    await expect(backups.get(OPERATOR, probe.id)).rejects.toMatchObject({ code: 'not found' });
    await expect(engine.probes.update(OPERATOR, backup.id, { name: 'taken' })).rejects.toMatchObject({
      code: 'not found',
    });
    expect((await backups.list(OPERATOR, { orgID: 'iso', limit: 10 })).tasks.map((t) => t.id)).toEqual([
      backup.id,
    ]);
    expect((await engine.probes.list(OPERATOR, { orgID: 'iso', limit: 10 })).tasks.map((t) => t.id)).toEqual([
      probe.id,
    ]);
    const backupRuns = engine.createRunService().forSystem(backups);
    await expect(backupRuns.runNow(OPERATOR, probe.id)).rejects.toMatchObject({ code: 'not found' });
  });

  it('refuses two systems claiming one type', () => {
    expect(() => createRunnerRegistry([backupRunnable, backupRunnable])).toThrow(
      /two systems claim the type "backup"/,
    );
  });
});
