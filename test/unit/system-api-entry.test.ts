import { describe, expect, it } from 'vitest';
import { executorLambda } from '../../functions/definitions/executor';
import { systemApiLambda } from '../../functions/definitions/system-api';
import * as authorizations from '../../lib/systems/authorizations';
import { SYSTEMS } from '../../lib/systems/registry';
import * as tasksApi from '../../lib/systems/tasks/api';
import * as tasksEngine from '../../lib/systems/tasks/engine';

const TABLE_ONLY = { ROTA_TABLE_NAME: 'rota' };

/**
 * A generated entry (infra/generated.ts) hands these the exports of its source file:
 * they find the API or engine there, and check, at cold start, that API's needs and
 * only those.
 */
describe('the system API entry', () => {
  it('starts the API it names, from the module its source exports, when its own needs are met', () => {
    const handler = systemApiLambda(authorizations, 'authorizations-api', SYSTEMS.resources, TABLE_ONLY);
    expect((handler as { rotaFunction?: string }).rotaFunction).toBe('authorizations-api');
  });

  it('fails another API on the same environment, naming the setting that API needs', () => {
    expect(() => systemApiLambda(tasksApi, 'tasks-api', SYSTEMS.resources, TABLE_ONLY)).toThrow(
      /ROTA_RUNS_QUEUE_URL: required by this function/,
    );
  });

  it('fails at cold start when its source exports no API of that name', () => {
    expect(() => systemApiLambda(tasksApi, 'checks-api', SYSTEMS.resources, TABLE_ONLY)).toThrow(
      'no system API "checks-api" among the exports of its source',
    );
  });
});

describe('the executor entry', () => {
  const env = { ...TABLE_ONLY, ROTA_RUNS_QUEUE_URL: 'http://127.0.0.1:1/q', ROTA_SECRETS_KEY: 'k' };

  it('starts with the engine of each task type it names', () => {
    const handler = executorLambda([[tasksEngine, 'task']], env);
    expect((handler as { rotaFunction?: string }).rotaFunction).toBe('executor');
  });

  it('fails at cold start when a source exports no engine of that type', () => {
    expect(() => executorLambda([[tasksEngine, 'check']], env)).toThrow(
      'no engine for the task type "check" among the exports of its source',
    );
  });
});
