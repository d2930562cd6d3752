import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalRota, startLocal } from '../../local/start';

const TOKEN = 'test-operator-token-limits';

/** The per-org quota as the running service applies it (ROTA_MAX_TASKS_PER_ORG through the runtime). */
describe('per-org task quota in local mode', () => {
  let rota: LocalRota;
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${rota.url}${path}`, {
      method,
      headers: { 'content-type': 'application/json', authorization: `Token ${TOKEN}` },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as Record<string, string> };
  };
  const task = (orgID: string, name: string) => ({
    orgID,
    name,
    every: '1h',
    target: { kind: 'http', url: 'http://127.0.0.1:9/hook' },
  });

  beforeAll(async () => {
    rota = await startLocal({
      port: 0,
      workers: 1,
      env: { ROTA_BOOTSTRAP_TOKEN: TOKEN, ROTA_MAX_TASKS_PER_ORG: '2' },
    });
  });
  afterAll(async () => {
    await rota?.stop();
  });

  it('refuses the task over the limit with 403 and a message, counts per org, and frees a slot on delete', async () => {
    const first = await call('POST', '/api/v2/tasks', task('quota-org', 'a'));
    expect(first.status).toBe(201);
    expect((await call('POST', '/api/v2/tasks', task('quota-org', 'b'))).status).toBe(201);

    const over = await call('POST', '/api/v2/tasks', task('quota-org', 'c'));
    expect(over).toEqual({
      status: 403,
      body: { code: 'forbidden', message: 'org has reached its limit of 2 tasks' },
    });
    // Another org has its own count.
    expect((await call('POST', '/api/v2/tasks', task('other-org', 'x'))).status).toBe(201);
    // Other systems' tasks count towards the same org limit.
    const check = await call('POST', '/api/v2/checks', {
      orgID: 'quota-org',
      name: 'c',
      type: 'threshold',
      every: '1h',
      probe: { url: 'http://127.0.0.1:9/m' },
      thresholds: [{ level: 'CRIT', type: 'greater', value: 1 }],
    });
    expect(check.status).toBe(403);

    expect((await call('DELETE', `/api/v2/tasks/${first.body.id}`)).status).toBe(204);
    expect((await call('POST', '/api/v2/tasks', task('quota-org', 'c'))).status).toBe(201);
    const list = await call('GET', '/api/v2/tasks?orgID=quota-org');
    expect((list.body as unknown as { tasks: { name: string }[] }).tasks.map((t) => t.name).sort()).toEqual([
      'b',
      'c',
    ]);
  });
});
