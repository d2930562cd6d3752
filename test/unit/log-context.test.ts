import type { Context } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { defineFunction, instantiate } from '../../lib/composition/function';
import type { Rota } from '../../lib/composition/root';
import { logger, setLogFormat, withLambdaContext } from '../../lib/observability/logger';
import { lambdaContext } from '../../local/lambda-context';

interface Line {
  message: string;
  function_name?: string;
  function_request_id?: string;
  cold_start?: boolean;
}

/** A gate the test opens: lets one invocation wait while another one runs. */
function gate() {
  let open = () => {};
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { open, opened };
}

/**
 * Local mode runs every function in one process, and a Lambda instance may run
 * concurrent invocations: each log line must name the invocation that wrote it, not the
 * one that added its Lambda context last (Powertools keeps one per logger).
 */
describe('log lines name their own invocation', () => {
  let lines: Line[];
  beforeEach(() => {
    lines = [];
    // Local mode's setting: every function shares one stdout.
    setLogFormat('json', { compactInfo: false });
    logger.setLogLevel('INFO');
    const capture = (chunk: unknown) => {
      const text = String(chunk);
      if (text.startsWith('{')) lines.push(JSON.parse(text) as Line);
      return true;
    };
    // Warnings and errors print to stderr.
    vi.spyOn(process.stdout, 'write').mockImplementation(capture);
    vi.spyOn(process.stderr, 'write').mockImplementation(capture);
  });
  afterEach(() => {
    vi.restoreAllMocks();
    logger.setLogLevel('SILENT');
  });
  const line = (message: string) => {
    const found = lines.filter((l) => l.message === message);
    expect(found, message).toHaveLength(1);
    return found[0];
  };

  it('keeps each concurrent invocation its own context, even when both add one', async () => {
    const scheduled = gate();
    // What Powertools' injectLambdaContext does first (functions/definitions/*.ts use it);
    // the middleware itself would also reset the level this suite raised from SILENT.
    const handler = (what: string, wait?: Promise<void>) => async (_event: unknown, context: Context) => {
      logger.addContext(context);
      logger.info(`${what} started`);
      await wait;
      logger.info(`${what} finished`);
      logger.warn(`${what} warned`);
    };
    const executor = lambdaContext('rota-executor');
    const scheduler = lambdaContext('rota-scheduler');

    // The executor's invocation waits while the scheduler's injects its own context and logs.
    const running = withLambdaContext(executor, () => handler('executor', scheduled.opened)({}, executor));
    await withLambdaContext(scheduler, () => handler('scheduler')({}, scheduler));
    scheduled.open();
    await running;

    // INFO lines are compact (docs/decisions/0027): the request id names the invocation.
    for (const message of ['executor started', 'executor finished']) {
      expect(line(message)).toMatchObject({ function_request_id: executor.awsRequestId });
    }
    for (const message of ['scheduler started', 'scheduler finished']) {
      expect(line(message)).toMatchObject({ function_request_id: scheduler.awsRequestId });
    }
    // A warning carries the whole context, its own invocation's.
    expect(line('executor warned')).toMatchObject({
      function_name: 'rota-executor',
      function_request_id: executor.awsRequestId,
    });
    expect(line('scheduler warned')).toMatchObject({
      function_name: 'rota-scheduler',
      function_request_id: scheduler.awsRequestId,
    });
    // A line outside any invocation names none of them.
    logger.warn('between invocations');
    expect(line('between invocations')?.function_request_id).toBeUndefined();
  });

  it('names the function of a handler that injects nothing (the API functions), cold only the first time', async () => {
    const api = instantiate(
      defineFunction({
        name: 'tasks-api',
        needs: [],
        build: () => async (_event: unknown, _context: Context) => {
          logger.warn('task created');
        },
      }),
      {} as Rota,
    );
    const first = lambdaContext('rota-log-test-api');
    const second = lambdaContext('rota-log-test-api');
    await api({}, first);
    const firstLine = line('task created');
    lines = [];
    await api({}, second);
    const secondLine = line('task created');

    expect(firstLine).toMatchObject({
      function_name: 'rota-log-test-api',
      function_request_id: first.awsRequestId,
      cold_start: true,
    });
    expect(secondLine).toMatchObject({
      function_name: 'rota-log-test-api',
      function_request_id: second.awsRequestId,
      cold_start: false,
    });
  });

  it('on Lambda, where each function has its own log group, writes INFO lean and a warning whole', async () => {
    setLogFormat('json', { compactInfo: true });
    const context = lambdaContext('rota-executor');
    try {
      await withLambdaContext(context, async () => {
        logger.info('run success', { runID: 'r1', lagMs: 12 });
        logger.warn('heartbeat failed', { runID: 'r1' });
      });
    } finally {
      setLogFormat('json', { compactInfo: false });
    }
    // Ids and timings: the log group, the event's timestamp and START/END say the rest.
    expect(line('run success')).toEqual({ level: 'INFO', message: 'run success', runID: 'r1', lagMs: 12 });
    expect(line('heartbeat failed')).toMatchObject({
      level: 'WARN',
      runID: 'r1',
      function_name: 'rota-executor',
      function_request_id: context.awsRequestId,
      service: expect.any(String),
      timestamp: expect.any(String),
    });
  });

  it('leaves a call without a Lambda context as Powertools has it', async () => {
    const result = await withLambdaContext(undefined, async () => {
      logger.warn('no context');
      return 42;
    });
    expect(result).toBe(42);
    expect(line('no context')?.function_name).toBeUndefined();
  });
});
