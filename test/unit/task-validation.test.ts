import { describe, expect, it } from 'vitest';
import { taskCreateBody } from '../../lib/systems/tasks/api-schemas';
import { toDefinition } from '../../lib/systems/tasks/http';
import type { Task } from '../../lib/task/model';
import { taskDefinitionSchema } from '../../lib/task/model';
import { applyPatch } from '../../lib/task/task-service';
import { describeIssues } from '../../lib/validation';

const target = { kind: 'http', url: 'https://example.com/hook' } as const;
const base = { orgID: 'org1', name: 'job', every: '1m', metadata: { target } };

const issues = (input: unknown) => {
  const result = taskDefinitionSchema.safeParse(input);
  return result.success ? '' : describeIssues(result.error);
};

describe('task definition validation', () => {
  it('accepts a minimal every task and a cron task with time zone', () => {
    expect(issues(base)).toBe('');
    expect(issues({ ...base, every: undefined, cron: '0 9 * * 1-5', timezone: 'Europe/Berlin' })).toBe('');
  });

  it.each([
    [{ ...base, cron: '* * * * *' }, /either every or cron, not both/],
    [{ ...base, every: undefined }, /needs every or cron/],
    [{ ...base, every: '500ms' }, /invalid duration/],
    [{ ...base, every: '0s' }, /at least 1s/],
    [{ ...base, every: undefined, cron: '* * *' }, /expected 5 or 6 fields/],
    [{ ...base, timezone: 'Mars/Olympus' }, /IANA time zone/],
    [{ ...base, concurrency: 0 }, /concurrency/],
    [{ ...base, concurrency: 1001 }, /concurrency/],
    [{ ...base, concurrency: 1.5 }, /concurrency/],
    [{ ...base, catchUp: 'sometimes' }, /catchUp/],
    [{ ...base, overlap: 'allow' }, /overlap/],
    [{ ...base, retry: { attempts: 11 } }, /retry.attempts/],
    [{ ...base, timeout: '1h' }, /at most 15m/],
    [{ ...base, name: '' }, /name/],
    [{ ...base, name: 'x'.repeat(257) }, /name/],
    [{ ...base, type: 'check' }, /unknown field\(s\) type/],
    [{ ...base, version: 9 }, /unknown field\(s\) version/],
  ])('refuses %j', (input, message) => {
    expect(issues(input)).toMatch(message);
  });

  it('accepts negative offsets and refuses huge ones', () => {
    expect(issues({ ...base, offset: '-30s' })).toBe('');
    expect(issues({ ...base, offset: '8d' })).toMatch(/within 7 days/);
  });
});

describe('InfluxDB create bodies', () => {
  it('read the schedule from the Flux option block', () => {
    const body = taskCreateBody.parse({
      orgID: 'org1',
      flux: 'option task = {name: "nightly", every: 1h, offset: 10m}\nfrom(bucket: "b")',
      target,
    });
    expect(toDefinition(body)).toMatchObject({ name: 'nightly', every: '1h', offset: '10m' });
  });

  it('let explicit fields win over the Flux block', () => {
    const body = taskCreateBody.parse({
      orgID: 'org1',
      name: 'explicit',
      cron: '0 * * * *',
      flux: 'option task = {name: "flux", every: 1h}',
      target,
    });
    const definition = toDefinition(body);
    expect(definition).toMatchObject({ name: 'explicit', cron: '0 * * * *' });
    expect(definition.every).toBeUndefined();
  });

  it('refuse a body that sets type', () => {
    expect(taskCreateBody.safeParse({ ...base, metadata: undefined, target, type: 'check' }).success).toBe(
      false,
    );
  });
});

describe('applyPatch', () => {
  const task: Task = {
    id: 't1',
    type: 'task',
    orgID: 'org1',
    name: 'job',
    description: '',
    status: 'active',
    every: '1m',
    catchUp: 'latest',
    metadata: { target },
    latestScheduled: '2026-01-01T10:00:00.000Z',
    nextRunAt: '2026-01-01T10:01:00.000Z',
    latestCompleted: '2026-01-01T10:00:00.000Z',
    createdAt: '2026-01-01T09:00:00.000Z',
    updatedAt: '2026-01-01T09:00:00.000Z',
    version: 3,
    revision: 1,
  };
  const at = Date.parse('2026-01-01T10:00:30Z');

  it('recomputes the next run from now when the schedule changes', () => {
    const next = applyPatch(task, { every: '1h' }, at);
    expect(next.every).toBe('1h');
    expect(next.nextRunAt).toBe('2026-01-01T11:00:00.000Z');
    expect(next.latestCompleted).toBe(task.latestCompleted);
  });

  it('replaces cron with every and every with cron', () => {
    expect(applyPatch(task, { cron: '*/5 * * * *' }, at)).toMatchObject({
      cron: '*/5 * * * *',
      every: undefined,
    });
  });

  it('clears the next run when deactivated and restores it on activation', () => {
    const inactive = applyPatch(task, { status: 'inactive' }, at);
    expect(inactive.nextRunAt).toBeUndefined();
    const active = applyPatch(inactive, { status: 'active' }, at + 3_600_000);
    expect(active.nextRunAt).toBe('2026-01-01T11:01:00.000Z');
  });

  it('clears optional fields with null', () => {
    const withLimit = { ...task, concurrency: 3 };
    expect(applyPatch(withLimit, { concurrency: null }, at).concurrency).toBeUndefined();
  });

  it('gives an overlap without concurrency a concurrency of 1, and keeps a set one', () => {
    expect(applyPatch(task, { overlap: 'skip' }, at)).toMatchObject({ overlap: 'skip', concurrency: 1 });
    const withLimit = { ...task, concurrency: 3 };
    expect(applyPatch(withLimit, { overlap: 'replace' }, at)).toMatchObject({ concurrency: 3 });
    expect(
      applyPatch({ ...task, overlap: 'skip', concurrency: 1 }, { concurrency: null }, at).concurrency,
    ).toBe(1);
    expect(applyPatch({ ...task, overlap: 'skip', concurrency: 1 }, { overlap: null }, at)).toMatchObject({
      overlap: undefined,
      concurrency: 1,
    });
  });

  it('refuses a patch that leaves no schedule, without touching the input', () => {
    const before = structuredClone(task);
    expect(() => applyPatch(task, { every: null }, at)).toThrow(/invalid update/);
    expect(task).toEqual(before);
  });
});
