import { describe, expect, it } from 'vitest';
import { toTaskJson } from '../../lib/systems/tasks/http';
import type { Task } from '../../lib/task/model';
import { nextRunFrom } from '../../lib/task/next-run';

const at = (iso: string) => Date.parse(iso);

describe('nextRunAt: the next instant that will run', () => {
  it('follows the schedule from now, not the scheduler cursor', () => {
    expect(nextRunFrom({ every: '1s' }, at('2026-01-01T10:00:00.400Z'))).toBe('2026-01-01T10:00:01.000Z');
    expect(nextRunFrom({ every: '1h', offset: '5m' }, at('2026-01-01T10:00:00.000Z'))).toBe(
      '2026-01-01T10:05:00.000Z',
    );
    expect(nextRunFrom({ every: '1h', offset: '5m' }, at('2026-01-01T10:06:00.000Z'))).toBe(
      '2026-01-01T11:05:00.000Z',
    );
    expect(nextRunFrom({ cron: '0 3 * * *', timezone: 'Europe/Paris' }, at('2026-01-01T10:00:00.000Z'))).toBe(
      '2026-01-02T02:00:00.000Z',
    );
  });

  it('is what the task JSON shows, with the cursor named scheduleCursor', () => {
    const now = Date.now();
    // An every: 1s task whose cursor the scheduler moved 27 s ahead (runs queued with a delay).
    const cursor = new Date(Math.floor(now / 1000) * 1000 + 27_000).toISOString();
    const task = {
      id: 't',
      type: 'task',
      orgID: 'o',
      name: 'n',
      description: '',
      status: 'active',
      every: '1s',
      catchUp: 'latest',
      latestScheduled: cursor,
      nextRunAt: new Date(Date.parse(cursor) + 1000).toISOString(),
      createdAt: '',
      updatedAt: '',
      version: 1,
      revision: 1,
      metadata: { target: { kind: 'http', url: 'https://example.com/', method: 'POST' } },
    } as Task & { metadata: { target: { kind: 'http'; url: string; method: 'POST' } } };
    const json = toTaskJson(task);
    const ahead = Date.parse(json.nextRunAt ?? '') - now;
    expect(ahead).toBeGreaterThan(0);
    expect(ahead).toBeLessThanOrEqual(1000);
    expect(json.scheduleCursor).toBe(cursor);
    expect(toTaskJson({ ...task, status: 'inactive' }).nextRunAt).toBeUndefined();
  });
});
