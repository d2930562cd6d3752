import { afterEach, describe, expect, it } from 'vitest';
import { type LocalRota, startLocal } from '../../local/start';
import { apiClient, TEST_OPERATOR_TOKEN } from '../support/auth';

/**
 * Local mode parses its settings once into its own config object and builds its one
 * composition root from it: the process environment it runs in is read (`inherit`),
 * never written, and nothing in it leaks into the handlers unless passed.
 */
describe('local mode configuration', () => {
  let rota: LocalRota | undefined;
  afterEach(async () => {
    await rota?.stop();
    rota = undefined;
  });

  it('serves from its own config object and leaves process.env as it found it', async () => {
    const before = { ...process.env };
    rota = await startLocal({ port: 0, workers: 1, env: { ROTA_BOOTSTRAP_TOKEN: TEST_OPERATOR_TOKEN } });
    expect(process.env).toEqual(before);
    expect(rota.config).toMatchObject({
      ROTA_TABLE_NAME: 'rota',
      ROTA_AUTH_MODE: 'token',
      ROTA_BOOTSTRAP_TOKEN: TEST_OPERATOR_TOKEN,
      POWERTOOLS_METRICS_DISABLED: true,
    });
    expect(rota.config.ROTA_DYNAMODB_ENDPOINT).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const api = apiClient(rota.url);
    const listed = await api(TEST_OPERATOR_TOKEN, 'GET', '/api/v2/tasks?orgID=config-org');
    expect(listed.status, listed.text).toBe(200);
  });

  it('takes the Rota settings of the environment it inherits, and nothing else from it', async () => {
    rota = await startLocal({
      port: 0,
      workers: 1,
      inherit: { ROTA_MAX_TASKS_PER_ORG: '3', ROTA_TABLE_NAME: 'not-local', SOME_TOOL_SETTING: 'x' },
      env: { ROTA_BOOTSTRAP_TOKEN: TEST_OPERATOR_TOKEN },
    });
    expect(rota.config.ROTA_MAX_TASKS_PER_ORG).toBe(3);
    // Local mode's own settings win over the shell's.
    expect(rota.config.ROTA_TABLE_NAME).toBe('rota');
    expect(rota.env).not.toHaveProperty('SOME_TOOL_SETTING');
  });

  it('fails the start on a bad setting, naming it', async () => {
    await expect(
      startLocal({ port: 0, workers: 1, env: { ROTA_CLAIM_TTL_SECONDS: 'soon' } }),
    ).rejects.toThrow(/ROTA_CLAIM_TTL_SECONDS/);
  });
});
