import { describe, expect, it } from 'vitest';
import { influxViolations, operationOf, responseSchemaPointer } from '../support/influx-contract';

const task = { id: '1', orgID: 'o', name: 'n', flux: 'from(bucket: "b")', status: 'active' };

describe('the InfluxDB contract harness', () => {
  it('finds the schema of an operation and status in the document, through shared responses', () => {
    expect(responseSchemaPointer({ method: 'GET', path: '/tasks/{taskID}' }, 200)).toBe(
      '/paths/~1tasks~1{taskID}/get/responses/200/content/application~1json/schema',
    );
    expect(responseSchemaPointer({ method: 'GET', path: '/api/v2/tasks/{taskID}' }, 404)).toBe(
      '/components/responses/ResourceNotFoundError/content/application~1json/schema',
    );
    // A status the operation does not list falls back to its default.
    expect(responseSchemaPointer({ method: 'GET', path: '/tasks' }, 422)).toBe(
      '/components/responses/GeneralServerError/content/application~1json/schema',
    );
    expect(responseSchemaPointer({ method: 'DELETE', path: '/tasks/{taskID}' }, 204)).toBeUndefined();
  });

  it('accepts a conforming body and names each violation of a bad one', () => {
    const op = { method: 'GET', path: '/tasks/{taskID}' } as const;
    expect(
      influxViolations(op, { status: 200, body: { ...task, links: { self: '/api/v2/tasks/1' } } }),
    ).toEqual([]);
    const bad = influxViolations(op, {
      status: 200,
      body: { ...task, flux: undefined, status: 'paused', createdAt: 'yesterday' },
    });
    expect(bad).toEqual(
      expect.arrayContaining([
        "/ must have required property 'flux'",
        expect.stringMatching(/^\/status must be equal to one of the allowed values/),
        '/createdAt must match format "date-time"',
      ]),
    );
  });

  it('resolves nested $refs: a run list with a bad log event and a bad error code fail', () => {
    const runs = { method: 'GET', path: '/tasks/{taskID}/runs' } as const;
    const run = { id: 'r', taskID: '1', status: 'success', log: [{ runID: 'r', time: 'now', message: 'm' }] };
    expect(influxViolations(runs, { status: 200, body: { runs: [run], links: { self: '/x' } } })).toEqual([
      '/runs/0/log/0/time must match format "date-time"',
    ]);
    expect(influxViolations(runs, { status: 200, body: { runs: [], links: {} } })).toEqual([
      "/links must have required property 'self'",
    ]);
    expect(
      influxViolations(runs, { status: 422, body: { code: 'unprocessable', message: 'm' } }),
    ).toHaveLength(1);
    expect(
      influxViolations(runs, { status: 422, body: { code: 'unprocessable entity', message: 'm' } }),
    ).toEqual([]);
  });

  it('refuses a body on a status the contract declares without one, and an unknown operation', () => {
    const del = { method: 'DELETE', path: '/tasks/{taskID}' } as const;
    expect(influxViolations(del, { status: 204, body: undefined })).toEqual([]);
    expect(influxViolations(del, { status: 204, body: { id: '1' } })).toHaveLength(1);
    expect(() => influxViolations({ method: 'GET', path: '/buckets' }, { status: 200, body: {} })).toThrow(
      /no operation GET \/buckets/,
    );
  });

  it("follows OpenAPI's discriminator: the branch `type` names must hold, and only that one", () => {
    const one = { method: 'GET', path: '/notificationEndpoints/{endpointID}' } as const;
    const http = {
      id: '1',
      orgID: 'o',
      name: 'hook',
      type: 'http',
      url: 'http://x',
      method: 'POST',
      authMethod: 'none',
    };
    // Plain oneOf would also match the Slack branch, which requires nothing, and fail.
    expect(influxViolations(one, { status: 200, body: http })).toEqual([]);
    const { authMethod: _a, ...noAuth } = http;
    expect(influxViolations(one, { status: 200, body: noAuth })).toContain(
      "/ must have required property 'authMethod'",
    );
    expect(influxViolations(one, { status: 200, body: { ...http, type: 'bogus' } }).join()).toMatch(
      /allowed values/,
    );
  });

  it('resolves a concrete request to its contract operation, literal segments first', () => {
    expect(operationOf('GET', '/api/v2/tasks/0123/runs?limit=5')).toEqual({
      method: 'GET',
      path: '/tasks/{taskID}/runs',
    });
    expect(operationOf('put', '/api/v2/checks/abc')).toEqual({ method: 'PUT', path: '/checks/{checkID}' });
    expect(operationOf('GET', '/api/v2/buckets')).toBeUndefined();
  });
});
