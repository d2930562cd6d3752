import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalRota, startLocal } from '../../local/start';
import { apiClient, TEST_OPERATOR_TOKEN } from '../support/auth';

/**
 * JSON that the DynamoDB marshaller or the emulator cannot take: nesting deeper than
 * DynamoDB's 32 levels, and `__proto__`/`constructor` keys. Each is a 400 that names
 * the problem, never a 500, never a crash of local mode, never a polluted prototype.
 */
describe('hostile JSON bodies', () => {
  const OP = TEST_OPERATOR_TOKEN;
  let rota: LocalRota;
  let api: ReturnType<typeof apiClient>;

  beforeAll(async () => {
    rota = await startLocal({ port: 0, workers: 0, env: { ROTA_BOOTSTRAP_TOKEN: OP } });
    api = apiClient(rota.url);
  });
  afterAll(async () => {
    await rota?.stop();
  });

  /** `{"a":{"a":…"leaf"…}}` with `levels` objects. */
  const nested = (levels: number): string => `${'{"a":'.repeat(levels)}"leaf"${'}'.repeat(levels)}`;
  const taskWithBody = (body: string) =>
    `{"orgID":"org-json","name":"deep","every":"1h","status":"inactive","target":{"kind":"http","url":"http://127.0.0.1:9/hook","body":${body}}}`;

  const expectAlive = async () => {
    const health = await api(undefined, 'GET', '/health');
    expect(health.status).toBe(200);
    const plain = await api(OP, 'POST', '/api/v2/tasks', JSON.parse(taskWithBody('{"ok":true}')));
    expect(plain.status, plain.text).toBe(201);
  };

  it('refuses a target body nested 1,500 objects deep with 400, and keeps running', async () => {
    const created = await api(OP, 'POST', '/api/v2/tasks', taskWithBody(nested(1500)));

    expect(created.status, created.text).toBe(400);
    expect(created.body.code).toBe('invalid');
    expect(created.body.message).toMatch(/nested deeper than 32 levels at target\.body\.a\.a\./);
    await expectAlive();
  });

  it('refuses deep arrays too, and a body of a million brackets', async () => {
    const arrays = await api(
      OP,
      'POST',
      '/api/v2/tasks',
      taskWithBody(`${'['.repeat(40)}1${']'.repeat(40)}`),
    );
    expect(arrays.status, arrays.text).toBe(400);
    expect(arrays.body.message).toMatch(/nested deeper than 32 levels at target\.body\.0\.0/);

    const brackets = await api(OP, 'POST', '/api/v2/tasks', `${'['.repeat(500_000)}${']'.repeat(500_000)}`);
    expect(brackets.status, brackets.text).toBe(400);
    expect(brackets.body.message).toMatch(/nested deeper than 32 levels/);
    await expectAlive();
  });

  it('takes a body at exactly the limit: 32 levels counting the request object itself', async () => {
    // The request object and target are 2 levels; 30 objects in the body make 32. Stored, the
    // task's metadata map and its target are the same 2 levels, so the item nests 32 deep too.
    const atLimit = await api(OP, 'POST', '/api/v2/tasks', taskWithBody(nested(30)));
    expect(atLimit.status, atLimit.text).toBe(201);
    const over = await api(OP, 'POST', '/api/v2/tasks', taskWithBody(nested(31)));
    expect(over.status, over.text).toBe(400);
    expect(over.body.message).toMatch(/nested deeper than 32 levels/);
  });

  const pollutingKeys = ['__proto__', 'constructor'];

  it.each(pollutingKeys)('refuses a %s key in a target body, a header map and check tags', async (key) => {
    const inBody = await api(
      OP,
      'POST',
      '/api/v2/tasks',
      taskWithBody(`{"payload":{"${key}":{"polluted":"yes"}}}`),
    );
    expect(inBody.status, inBody.text).toBe(400);
    expect(inBody.body.message).toContain(`target.body.payload.${key}`);

    const inHeaders = await api(
      OP,
      'POST',
      '/api/v2/tasks',
      `{"orgID":"org-json","name":"h","every":"1h","status":"inactive","target":{"kind":"http","url":"http://127.0.0.1:9/","headers":{"${key}":"x"}}}`,
    );
    expect(inHeaders.status, inHeaders.text).toBe(400);
    expect(inHeaders.body.message).toContain(`target.headers.${key}`);

    const inTags = await api(
      OP,
      'POST',
      '/api/v2/checks',
      `{"orgID":"org-json","name":"c","type":"threshold","every":"1h","status":"inactive","probe":{"url":"http://127.0.0.1:9/"},"thresholds":[{"level":"CRIT","type":"greater","value":1}],"tags":{"${key}":"x"}}`,
    );
    expect(inTags.status, inTags.text).toBe(400);
    expect(inTags.body.message).toContain(`tags.${key}`);

    // InfluxDB's list form carries the key as a value, out of the body key check's sight.
    const inTagList = await api(
      OP,
      'POST',
      '/api/v2/checks',
      `{"orgID":"org-json","name":"c","type":"threshold","every":"1h","status":"inactive","probe":{"url":"http://127.0.0.1:9/"},"thresholds":[{"level":"CRIT","type":"greater","value":1}],"tags":[{"key":"${key}","value":"x"}]}`,
    );
    expect(inTagList.status, inTagList.text).toBe(400);
    expect(inTagList.body.message).toContain('tags');

    const patched = await api(
      OP,
      'POST',
      '/api/v2/notificationEndpoints',
      `{"orgID":"org-json","name":"e","type":"http","url":"http://127.0.0.1:9/","headers":{"${key}":"x"}}`,
    );
    expect(patched.status, patched.text).toBe(400);
    expect(patched.body.message).toContain(`headers.${key}`);

    // Local mode runs in this process: nothing reached Object.prototype.
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    await expectAlive();
  });

  it('names the key in every route that reads a body, PATCH included', async () => {
    const created = await api(OP, 'POST', '/api/v2/tasks', JSON.parse(taskWithBody('{"ok":true}')));
    const patched = await api(
      OP,
      'PATCH',
      `/api/v2/tasks/${created.body.id}`,
      '{"target":{"kind":"http","url":"http://127.0.0.1:9/","body":{"__proto__":{"x":1}}}}',
    );
    expect(patched.status, patched.text).toBe(400);
    expect(patched.body).toEqual({
      code: 'invalid',
      message: expect.stringContaining('target.body.__proto__'),
    });
    const token = await api(
      OP,
      'POST',
      '/api/v2/authorizations',
      '{"orgID":"org-json","permissions":[],"constructor":{"prototype":{"x":1}}}',
    );
    expect(token.status, token.text).toBe(400);
    expect(token.body.message).toContain('constructor');
  });
});
