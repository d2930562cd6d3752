import { describe, expect, it } from 'vitest';
import { ConflictError, NotFoundError } from '../../lib/errors';
import { createApiHandler } from '../../lib/http/api-handler';
import { bodyOf } from '../../lib/http/request';
import { json } from '../../lib/http/response';
import { taskCreateBody } from '../../lib/systems/tasks/api-schemas';
import { redactTarget } from '../../lib/systems/tasks/http';
import { apiEvent, testContext } from '../support/events';

const handler = createApiHandler([
  { method: 'GET', path: '/things/{id}', handler: async (req) => json(200, { id: req.params.id }) },
  {
    method: 'POST',
    path: '/things',
    handler: async (req) => json(201, bodyOf(req, taskCreateBody.pick({ name: true }), 'invalid thing')),
  },
  {
    method: 'GET',
    path: '/missing',
    handler: async () => Promise.reject(new NotFoundError('thing not found')),
  },
  {
    method: 'GET',
    path: '/conflict',
    handler: async () => Promise.reject(new ConflictError('version moved')),
  },
  {
    method: 'GET',
    path: '/boom',
    handler: async () => Promise.reject(new Error('connect ECONNREFUSED 10.1.2.3:443')),
  },
]);

const call = async (...args: Parameters<typeof apiEvent>) => {
  const res = await handler(apiEvent(...args), testContext());
  return {
    status: res.statusCode,
    headers: res.headers ?? {},
    body: res.body ? JSON.parse(res.body) : undefined,
  };
};

describe('HTTP mapping', () => {
  it('passes path parameters to the route', async () => {
    expect(await call('GET', '/things/abc')).toMatchObject({ status: 200, body: { id: 'abc' } });
  });

  it.each([
    ['/missing', 404, 'not found', 'thing not found'],
    ['/conflict', 409, 'conflict', 'version moved'],
  ])(
    'maps a domain error on %s to %i {code, message} with the code header',
    async (path, status, code, message) => {
      const res = await call('GET', path);
      expect(res).toMatchObject({ status, body: { code, message } });
      expect(res.headers['x-platform-error-code']).toBe(code);
    },
  );

  it('turns an unknown error into a generic internal error without its text', async () => {
    const res = await call('GET', '/boom');
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ code: 'internal error', message: 'an internal error has occurred' });
    expect(JSON.stringify(res)).not.toContain('10.1.2.3');
  });

  it('answers 404 for an unknown path and 405 for a known path with another method', async () => {
    expect(await call('GET', '/nowhere')).toMatchObject({ status: 404, body: { code: 'not found' } });
    expect(await call('DELETE', '/things/abc')).toMatchObject({
      status: 405,
      body: { code: 'method not allowed' },
    });
  });

  it('refuses malformed JSON with invalid and the parser message', async () => {
    const res = await call('POST', '/things', { body: '{"name": ' });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('invalid');
    expect(res.body.message).toMatch(/^failed to decode request body: /);
  });

  it('refuses a non-JSON content type', async () => {
    const res = await call('POST', '/things', {
      body: 'name=x',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(res).toMatchObject({ status: 400, body: { code: 'invalid' } });
    expect(res.body.message).toMatch(/content-type must be application\/json/);
  });

  it('refuses a body over 1 MB with 413 request too large', async () => {
    const res = await call('POST', '/things', { body: JSON.stringify({ name: 'x'.repeat(1024 * 1024) }) });
    expect(res).toMatchObject({ status: 413, body: { code: 'request too large' } });
  });

  it('answers empty value when a required body is missing', async () => {
    expect(await call('POST', '/things')).toMatchObject({ status: 400, body: { code: 'empty value' } });
  });

  it('flattens validation errors as outer: inner', async () => {
    const res = await call('POST', '/things', { body: JSON.stringify({ name: 5 }) });
    expect(res.body.message).toMatch(/^invalid thing: name: /);
  });
});

describe('target redaction', () => {
  it('hides credential headers and keeps the rest', () => {
    const out = redactTarget({
      kind: 'http',
      url: 'https://example.com',
      method: 'POST',
      headers: { Authorization: 'Bearer s3cret', 'X-Api-Key': 'k', 'X-Trace': 'on' },
    });
    expect(out).toMatchObject({
      headers: { Authorization: '<redacted>', 'X-Api-Key': '<redacted>', 'X-Trace': 'on' },
    });
  });
});
