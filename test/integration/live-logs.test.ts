import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Run } from '../../lib/run/model';
import { runSk, taskPk } from '../../lib/store/keys';
import { OPERATOR } from '../../lib/task/task-service';
import { type Backend, backends, describeEach, waitFor } from '../support/emulators';
import { createEngine, type Engine } from '../support/engine';

const line = (n: number) => ({ time: `2026-01-01T00:00:0${n}.000Z`, message: `line ${n}` });
const messages = (run: Run | undefined) => run?.log.map((entry) => entry.message);

describeEach(backends())('live logs on $name', ({ start }) => {
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

  /** A manual run of a new task, claimed under `token` as the executor claims it. */
  async function claimedRun(name: string, token: string): Promise<Run> {
    const task = await engine.probes.create(OPERATOR, { orgID: 'org', name, every: '1h', metadata: {} });
    const run = await engine.runService.runNow(OPERATOR, task.id);
    const now = Date.now();
    const claim = await engine.runs.claim({
      taskID: task.id,
      runID: run.id,
      token,
      now,
      claimTtlMs: 30_000,
      seed: { kind: run.kind, scheduledFor: run.scheduledFor, attempt: run.attempt },
    });
    expect(claim.claimed).toBe(true);
    return run;
  }

  const rawItem = async (run: Run) =>
    (
      await engine.dynamo.send(
        new GetItemCommand({
          TableName: engine.tableName,
          Key: { PK: { S: taskPk(run.taskID) }, SK: { S: runSk(run.id) } },
          ConsistentRead: true,
        }),
      )
    ).Item;

  it('a stale claim token cannot flush; the holder can, and reads show what it flushed', async () => {
    const run = await claimedRun('stale-flush', 'token-now');

    expect(await engine.runs.flushLog(run.taskID, run.id, 'token-before-takeover', [line(1)])).toBe(false);
    expect(messages(await engine.runs.get(run.taskID, run.id))).toEqual([]);

    expect(await engine.runs.flushLog(run.taskID, run.id, 'token-now', [line(1)])).toBe(true);
    const started = await engine.runs.get(run.taskID, run.id);
    expect(started?.status).toBe('started');
    expect(messages(started)).toEqual(['line 1']);
    // A later flush replaces the flushed lines with all so far: a resent flush never doubles them.
    expect(await engine.runs.flushLog(run.taskID, run.id, 'token-now', [line(1), line(2)])).toBe(true);
    expect(await engine.runs.flushLog(run.taskID, run.id, 'token-now', [line(1), line(2)])).toBe(true);
    expect(messages(await engine.runs.get(run.taskID, run.id))).toEqual(['line 1', 'line 2']);
  });

  it('a flush then the finish leaves the full log once, not twice, and nothing flushed behind', async () => {
    const run = await claimedRun('flush-then-finish', 'token');
    expect(await engine.runs.flushLog(run.taskID, run.id, 'token', [line(1), line(2)])).toBe(true);

    const finished = await engine.runs.finish(run.taskID, run.id, 'token', {
      status: 'success',
      finishedAt: new Date().toISOString(),
      log: [line(1), line(2), line(3)],
    });

    expect(messages(finished)).toEqual(['line 1', 'line 2', 'line 3']);
    expect(messages(await engine.runs.get(run.taskID, run.id))).toEqual(['line 1', 'line 2', 'line 3']);
    expect((await rawItem(run))?.liveLog).toBeUndefined();
    // A flush that arrives after the finish (an executor that lost the race) writes nothing.
    expect(await engine.runs.flushLog(run.taskID, run.id, 'token', [line(1), line(2), line(9)])).toBe(false);
    expect(messages(await engine.runs.get(run.taskID, run.id))).toEqual(['line 1', 'line 2', 'line 3']);
  });

  it('the executor flushes a started run: its lines read before it ends, and once after', async () => {
    const task = await engine.probes.create(OPERATOR, {
      orgID: 'org',
      name: 'slow-probe',
      every: '1h',
      metadata: { durationMs: 2_500 },
    });
    const run = await engine.runService.runNow(OPERATOR, task.id);
    const executing = engine.newExecutor({ logFlushMs: 300 }).execute(engine.messageFor(run));

    const live = await waitFor(
      async () => {
        const read = await engine.runs.get(task.id, run.id);
        return read?.status === 'started' && read.log.length >= 2 ? read : undefined;
      },
      { timeoutMs: 2_000, intervalMs: 50, what: 'the started run to show its flushed lines' },
    );
    expect(messages(live)?.[0]).toMatch(/^run started/);
    expect(messages(live)?.[1]).toBe(`probe run ${run.id}`);

    expect((await executing).outcome).toBe('success');
    const done = messages(await engine.runs.get(task.id, run.id)) ?? [];
    expect(done).toEqual([expect.stringMatching(/^run started/), `probe run ${run.id}`, 'run succeeded']);
  });
});
