import { describe, expect, it } from 'vitest';
import {
  ConflictError,
  flattenMessage,
  GENERIC_INTERNAL_MESSAGE,
  InvalidError,
  NotFoundError,
  toErrorBody,
  wrapError,
} from '../../lib/errors';

describe('error flattening', () => {
  it('joins a cause chain as outer: inner: EOF', () => {
    const error = new InvalidError('failed to decode request body', {
      cause: new InvalidError('unexpected token', { cause: new Error('EOF') }),
    });
    expect(flattenMessage(error)).toBe('failed to decode request body: unexpected token: EOF');
  });

  it('keeps the innermost Rota code when wrapping', () => {
    const wrapped = wrapError('updating task', new NotFoundError('task not found'));
    expect(wrapped.code).toBe('not found');
    expect(toErrorBody(wrapped)).toEqual({
      status: 404,
      exposed: true,
      body: { code: 'not found', message: 'updating task: task not found' },
    });
  });

  it('maps each code to its InfluxDB status', () => {
    expect(toErrorBody(new ConflictError('x')).status).toBe(409);
    expect(toErrorBody(new InvalidError('x')).status).toBe(400);
  });

  it('never exposes foreign errors or their text', () => {
    const sdkError = Object.assign(
      new Error('ProvisionedThroughputExceededException: table rota arn:aws:...'),
      {
        name: 'ProvisionedThroughputExceededException',
      },
    );
    const out = toErrorBody(sdkError);
    expect(out).toEqual({
      status: 500,
      exposed: false,
      body: { code: 'internal error', message: GENERIC_INTERNAL_MESSAGE },
    });
  });

  it('does not leak a foreign cause through a Rota wrapper', () => {
    const error = new InvalidError('bad input', { cause: new Error('secret internal detail') });
    expect(toErrorBody(error).body.message).toBe('bad input');
  });

  it('hides wrapped internal errors', () => {
    const out = toErrorBody(wrapError('listing tasks', new TypeError('x is undefined')));
    expect(out.body).toEqual({ code: 'internal error', message: GENERIC_INTERNAL_MESSAGE });
  });
});
