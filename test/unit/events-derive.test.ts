import { describe, expect, it } from 'vitest';
import { streamConsumer } from '../../lib/composition/events';
import { createRota } from '../../lib/composition/root';
import { parseConfig } from '../../lib/config';
import { deriveEvents, needsTask } from '../../lib/events/derive';
import { EVENT_TYPES, eventTypesFrom } from '../../lib/events/model';

const task = {
  PK: 'TASK#t1',
  SK: 'TASK',
  id: 't1',
  type: 'tasks',
  orgID: 'org-a',
  version: 1,
  updatedAt: '2026-01-01T00:00:00.000Z',
  metadata: { target: { headers: { authorization: 'Bearer secret' } } },
};
const run = (status: string, extra: Record<string, unknown> = {}) => ({
  PK: 'TASK#t1',
  SK: 'RUN#r1',
  taskID: 't1',
  id: 'r1',
  status,
  kind: 'manual',
  scheduledFor: '2026-01-01T00:01:00.000Z',
  attempt: 1,
  ...extra,
});
const info = { orgID: 'org-a', type: 'tasks' };

describe('deriveEvents', () => {
  it('turns a task put, a definition change and a delete into task events without the metadata', () => {
    const created = deriveEvents({ newImage: task });
    expect(created).toEqual([
      {
        id: 't1:task.created:1',
        type: 'task.created',
        time: '2026-01-01T00:00:00.000Z',
        orgID: 'org-a',
        taskID: 't1',
        taskType: 'tasks',
      },
    ]);
    expect(JSON.stringify(created)).not.toContain('secret');
    expect(deriveEvents({ oldImage: task, newImage: { ...task, version: 2 } })[0]?.type).toBe('task.updated');
    expect(deriveEvents({ oldImage: task })[0]?.type).toBe('task.deleted');
  });

  it('makes no task.updated for the engine bookkeeping on the task item', () => {
    expect(
      deriveEvents({ oldImage: task, newImage: { ...task, nextRunAt: 'x', lastRunStatus: 'success' } }),
    ).toEqual([]);
  });

  it('emits one event per run status entered, with a stable id', () => {
    expect(needsTask({ newImage: run('scheduled') })).toBe('t1');
    const scheduled = deriveEvents({ newImage: run('scheduled', { requestedAt: 'a' }) }, info);
    expect(scheduled).toEqual([
      {
        id: 'r1:scheduled:1',
        type: 'run.scheduled',
        time: 'a',
        orgID: 'org-a',
        taskID: 't1',
        taskType: 'tasks',
        runID: 'r1',
        scheduledFor: '2026-01-01T00:01:00.000Z',
        attempt: 1,
        status: 'scheduled',
      },
    ]);
    const failed = deriveEvents(
      { oldImage: run('started'), newImage: run('failed', { error: 'HTTP 500', finishedAt: 'f' }) },
      info,
    );
    expect(failed[0]).toMatchObject({ type: 'run.failed', status: 'failed', error: 'HTTP 500', time: 'f' });
    expect(deriveEvents({ oldImage: run('started'), newImage: run('started', { claims: 2 }) }, info)).toEqual(
      [],
    );
    expect(deriveEvents({ oldImage: run('success') }, info)).toEqual([]);
    // The same change delivered twice derives the same id.
    const again = deriveEvents(
      { oldImage: run('started'), newImage: run('success', { finishedAt: 'f' }) },
      info,
    );
    expect(again[0]?.id).toBe(
      deriveEvents({ oldImage: run('started'), newImage: run('success', { finishedAt: 'f' }) }, info)[0]?.id,
    );
    expect(again[0]?.type).toBe('run.succeeded');
  });

  it('maps a plain scheduled instant written as started, and a canceled skip', () => {
    expect(deriveEvents({ newImage: run('started', { kind: 'scheduled' }) }, info)[0]?.type).toBe(
      'run.started',
    );
    expect(deriveEvents({ newImage: run('canceled', { error: 'skipped' }) }, info)[0]).toMatchObject({
      type: 'run.canceled',
      error: 'skipped',
    });
  });

  it('emits check.status only when the level changes, the first status included', () => {
    const status = (level: string, previousLevel?: string) => ({
      PK: 'TASK#c1',
      SK: 'STATUS#2026-01-01T00:00:00Z#r9',
      checkID: 'c1',
      runID: 'r9',
      time: '2026-01-01T00:00:00Z',
      level,
      ...(previousLevel ? { previousLevel } : {}),
    });
    const check = { orgID: 'org-a', type: 'checks' };
    expect(deriveEvents({ newImage: status('crit') }, check)[0]).toMatchObject({
      type: 'check.status',
      taskID: 'c1',
      level: 'crit',
    });
    expect(deriveEvents({ newImage: status('crit', 'ok') }, check)[0]).toMatchObject({ previousLevel: 'ok' });
    expect(deriveEvents({ newImage: status('ok', 'ok') }, check)).toEqual([]);
  });

  it('ignores items that are no task, run or status', () => {
    expect(deriveEvents({ newImage: { PK: 'TASK#t1', SK: 'LEASE#0000' } }, info)).toEqual([]);
    expect(deriveEvents({ newImage: { PK: 'AUTH#x', SK: 'AUTH' } })).toEqual([]);
  });
});

describe('the operator’s event types', () => {
  it('keeps the listed types in their usual order and names an unknown one with the valid ones', () => {
    expect(eventTypesFrom(['check.status', 'run.failed'])).toEqual({ types: ['run.failed', 'check.status'] });
    expect(eventTypesFrom([])).toEqual({ types: [] });
    expect(eventTypesFrom(['run.failed', 'run.done'])).toEqual({
      error: `unknown run.done; valid types are ${EVENT_TYPES.join(', ')}`,
    });
  });

  it('refuses an unknown ROTA_EVENT_TYPES when the publisher starts, naming the setting', () => {
    const rota = createRota(
      parseConfig({
        ROTA_TABLE_NAME: 't',
        ROTA_EVENT_BUS_NAME: 'b',
        ROTA_EVENT_TYPES: 'run.failed,run.done',
      }),
    );
    expect(() => rota.get(streamConsumer)).toThrow(
      /invalid Rota configuration: ROTA_EVENT_TYPES: unknown run\.done; valid types are task\.created/,
    );
  });
});
