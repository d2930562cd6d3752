import { describe, expect, it } from 'vitest';
import { metaApiFunction } from '../../functions/definitions/meta-api';
import { type Caller, decodePermissions, OPERATOR_CALLER } from '../../lib/auth/model';
import type { Rota } from '../../lib/composition/root';
import { RotaError } from '../../lib/errors';
import type { RotaEvent } from '../../lib/events/model';
import { eventWatch, SSE_HEARTBEAT, sseMessage } from '../../lib/events/watch';
import { SYSTEMS } from '../../lib/systems/registry';
import { apiEvent, testContext } from '../support/events';

const event = (overrides: Partial<RotaEvent> = {}): RotaEvent => ({
  id: 't1:task.created:1',
  type: 'task.created',
  time: '2026-01-01T00:00:00.000Z',
  orgID: 'org-a',
  taskID: 't1',
  taskType: 'task',
  ...overrides,
});
const orgToken = (orgID: string, permissions: string): Caller => ({
  orgID,
  tokenID: '01jaaaaaaaaaaaaaaaaaaaaaaa',
  permissions: decodePermissions(permissions),
});
const watch = (caller: Caller, query: Record<string, string> = {}) =>
  eventWatch(caller, query, SYSTEMS.resourceOf);
const refusal = (run: () => unknown) => {
  try {
    run();
  } catch (error) {
    if (error instanceof RotaError)
      return {
        code: error.code,
        message: `${error.message}: ${String((error.cause as Error | undefined)?.message)}`,
      };
    throw error;
  }
  throw new Error('expected a refusal');
};

describe('which events a watcher is sent', () => {
  it('maps each task type to the permission resource of the system that owns it', () => {
    expect(SYSTEMS.resourceOf('task')).toBe('tasks');
    expect(SYSTEMS.resourceOf('check')).toBe('checks');
    expect(SYSTEMS.resourceOf('no-such-type')).toBeUndefined();
  });

  it("gives an org token its own org's events only, of the systems it may read", () => {
    const accept = watch(orgToken('org-a', 'read:tasks'));
    expect(accept(event())).toBe(true);
    expect(accept(event({ orgID: 'org-b' }))).toBe(false);
    expect(accept(event({ taskType: 'check' }))).toBe(false);
    expect(accept(event({ taskType: 'no-such-type' }))).toBe(false);
    expect(watch(orgToken('org-a', 'write:tasks'))(event())).toBe(false);
  });

  it('gives the operator every org and type, narrowed by orgID when asked', () => {
    expect(watch(OPERATOR_CALLER)(event({ orgID: 'org-z', taskType: 'no-such-type' }))).toBe(true);
    const accept = watch(OPERATOR_CALLER, { orgID: 'org-a' });
    expect([accept(event()), accept(event({ orgID: 'org-b' }))]).toEqual([true, false]);
  });

  it('filters by taskID and by a comma-separated type list', () => {
    const caller = orgToken('org-a', 'read:tasks');
    expect(watch(caller, { taskID: 't2' })(event())).toBe(false);
    const accept = watch(caller, { type: 'run.failed, task.created' });
    expect(accept(event())).toBe(true);
    expect(accept(event({ type: 'run.started' }))).toBe(false);
  });

  it("refuses another org's orgID with forbidden, and bad filters with invalid naming the field", () => {
    expect(refusal(() => watch(orgToken('org-b', 'read:tasks'), { orgID: 'org-a' }))).toMatchObject({
      code: 'forbidden',
      message: expect.stringMatching(/^orgID: /),
    });
    expect(refusal(() => watch(OPERATOR_CALLER, { type: 'run.exploded' }))).toMatchObject({
      code: 'invalid',
      message: expect.stringMatching(
        /type: must be comma-separated event types, each one of "task\.created".*got "run\.exploded"/,
      ),
    });
    expect(refusal(() => watch(OPERATOR_CALLER, { type: ',' })).message).toMatch(/type: /);
    expect(refusal(() => watch(OPERATOR_CALLER, { taskId: 't1' })).message).toMatch(
      /unknown field\(s\) taskId/,
    );
  });

  it('frames an event as an SSE message whose id is the event id, and the heartbeat as a comment', () => {
    expect(sseMessage(event())).toBe(`id: t1:task.created:1\ndata: ${JSON.stringify(event())}\n\n`);
    expect(SSE_HEARTBEAT).toBe(': keep-alive\n\n');
  });
});

describe('GET /api/v2/events on AWS (meta-api)', () => {
  const handler = metaApiFunction(async () => '{}').build({} as Rota);
  const call = (context: Record<string, string>) => {
    const request = apiEvent('GET', '/api/v2/events');
    (request.requestContext as { authorizer?: unknown }).authorizer = { lambda: context };
    return handler(request, testContext());
  };

  it('answers a valid token with 404 naming the EventBridge bus, never a 500', async () => {
    const res = await call({ orgID: '', tokenID: 'operator', permissions: '*' });
    expect(res.statusCode).toBe(404);
    expect(JSON.parse(String(res.body))).toEqual({
      code: 'not found',
      message: expect.stringMatching(/local mode only.*EventBridge bus/),
    });
  });

  it('answers a refused token with 401, as every route behind the authorizer does', async () => {
    const res = await call({ orgID: '', tokenID: '', permissions: '', refused: 'token' });
    expect(res.statusCode).toBe(401);
  });
});
