import { describe, expect, it } from 'vitest';
import { InvalidError } from '../../lib/errors';
import { taskCreateBody, taskMetadataSchema } from '../../lib/systems/tasks/api-schemas';
import { taskDefinitionSchema } from '../../lib/task/model';
import { parseOrThrow } from '../../lib/validation';

/** The one-line message a client reads for `input`. */
function messageFor(schema: Parameters<typeof parseOrThrow>[0], input: unknown): string {
  try {
    parseOrThrow(schema, input, 'invalid task');
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidError);
    return ((error as InvalidError).cause as Error).message;
  }
  throw new Error('expected the input to be refused');
}

const target = { kind: 'http', url: 'https://example.com/hook', method: 'POST' };
const base = { orgID: 'org', name: 'n', every: '1m', target };
/** The stored definition: the system keeps the target in `metadata`. */
const definition = { orgID: 'org', name: 'n', every: '1m', metadata: {} };

describe('validation messages', () => {
  it('say a missing field is required and what it takes, in place of zod wording', () => {
    // A create body may leave out `target` when it has `flux` (the route decides); the
    // stored metadata never does.
    expect(messageFor(taskMetadataSchema, {})).toBe(
      'target: required (an object with kind http, flux, lambda, sqs, sns, eventbridge)',
    );
    expect(messageFor(taskDefinitionSchema, { ...definition, name: undefined })).toBe(
      'name: required (a string)',
    );
  });

  it('list every valid target kind, status and method, and quote what was sent', () => {
    expect(messageFor(taskCreateBody, { ...base, target: { kind: 'ftp', url: 'x' } })).toBe(
      'target.kind: must be one of "http", "flux", "lambda", "sqs", "sns", "eventbridge"',
    );
    expect(messageFor(taskCreateBody, { ...base, status: 'paused' })).toBe(
      'status: must be one of "active", "inactive", got "paused"',
    );
    expect(messageFor(taskCreateBody, { ...base, target: { ...target, method: 'FETCH' } })).toBe(
      'target.method: must be one of "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", got "FETCH"',
    );
  });

  it('name the expected type and the bounds', () => {
    const message = messageFor(taskCreateBody, { ...base, name: 5, concurrency: 0, description: 7 });
    expect(message).toContain('name: expected a string, got a number');
    expect(message).toContain('concurrency: must be at least 1');
    expect(message).not.toMatch(/Invalid|Too small|received/);
  });

  it('report a bad time zone alone, without a spurious cron error', () => {
    expect(
      messageFor(taskDefinitionSchema, {
        ...definition,
        every: undefined,
        cron: '0 * * * *',
        timezone: 'Mars/Base',
      }),
    ).toBe('timezone: must be an IANA time zone such as Europe/Berlin');
    // A bad cron in a good zone is still reported.
    expect(
      messageFor(taskDefinitionSchema, {
        ...definition,
        every: undefined,
        cron: '61 * * * *',
        timezone: 'Europe/Paris',
      }),
    ).toMatch(/^cron: invalid cron "61 \* \* \* \*"/);
  });

  it('keep the messages schemas wrote themselves', () => {
    expect(messageFor(taskCreateBody, { ...base, unknown: 1 })).toBe('unknown field(s) unknown');
    expect(messageFor(taskCreateBody, { ...base, target: { ...target, url: 'ftp://x' } })).toBe(
      'target.url: must be an http or https URL',
    );
  });
});
