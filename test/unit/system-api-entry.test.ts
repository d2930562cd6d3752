import { describe, expect, it } from 'vitest';
import { systemApiEntry } from '../../functions/definitions/system-api';
import { SYSTEMS } from '../../lib/systems/registry';

const TABLE_ONLY = { ROTA_TABLE_NAME: 'rota' };

/**
 * The generic API entry checks, at cold start, the needs of the API its service name
 * selects, and only those: the authorizations API starts with a table alone, the tasks
 * API on the same environment fails, naming what it lacks.
 */
describe('the generic system API entry', () => {
  it('starts the selected API when its own needs are met', () => {
    const handler = systemApiEntry(SYSTEMS, {
      ...TABLE_ONLY,
      POWERTOOLS_SERVICE_NAME: 'rota-authorizations-api',
    });
    expect((handler as { rotaFunction?: string }).rotaFunction).toBe('authorizations-api');
  });

  it('fails another API on the same environment, naming the setting that API needs', () => {
    expect(() =>
      systemApiEntry(SYSTEMS, { ...TABLE_ONLY, POWERTOOLS_SERVICE_NAME: 'rota-tasks-api' }),
    ).toThrow(/ROTA_RUNS_QUEUE_URL: required by this function/);
  });

  it('without a service name, needs what every API needs', () => {
    expect(() => systemApiEntry(SYSTEMS, TABLE_ONLY)).toThrow(
      /ROTA_RUNS_QUEUE_URL: required by this function/,
    );
  });
});
