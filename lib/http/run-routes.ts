import * as z from 'zod';
import { UnprocessableEntityError } from '../errors';
import type { Run } from '../run/model';
import type { ScopedRunService } from '../run/run-service';
import { parseOrThrow } from '../validation';
import { checkTaskPageLimit, taskPagingQuery } from './paging';
import { param, queryOf } from './request';
import { json, noContent } from './response';
import { created, named, ok, type RouteDef, type RouteOf } from './route';
import { logEventsSchema, runSchema, runsSchema } from './run-schemas';

export const listRunsQuery = z.object({
  ...taskPagingQuery,
  afterTime: z.iso.datetime({ offset: true }).optional(),
  beforeTime: z.iso.datetime({ offset: true }).optional(),
});

export const runManuallyBody = z.strictObject({
  scheduledFor: z.iso.datetime({ offset: true }).nullable().optional(),
});

/** InfluxDB's Run object, plus Rota's attempt bookkeeping. */
export function toRunJson(run: Run, basePath: string): z.input<typeof runSchema> {
  const self = `${basePath}/${run.taskID}/runs/${run.id}`;
  return {
    id: run.id,
    taskID: run.taskID,
    status: run.status,
    scheduledFor: run.scheduledFor,
    runAt: run.runAt,
    requestedAt: run.requestedAt,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
    attempt: run.attempt,
    retryOf: run.retryOf,
    error: run.error,
    log: run.log.map((entry) => ({ runID: run.id, ...entry })),
    links: { self, task: `${basePath}/${run.taskID}`, logs: `${self}/logs`, retry: `${self}/retry` },
  };
}

/** InfluxDB refuses a window that ends before it starts with 422, as it does an out-of-range limit. */
function timeWindow(afterTime: string | undefined, beforeTime: string | undefined) {
  const after = afterTime === undefined ? undefined : Date.parse(afterTime);
  const before = beforeTime === undefined ? undefined : Date.parse(beforeTime);
  if (after !== undefined && before !== undefined && before < after) {
    throw new UnprocessableEntityError('beforeTime must be later than afterTime');
  }
  return { afterTime: after, beforeTime: before };
}

/** What every runs route shares: the system's base path and its scope of the RunService. */
interface RunRoutesContext {
  readonly basePath: string;
  readonly runs: ScopedRunService;
}

type RunRoute = RouteOf<RunRoutesContext>;

const listRuns: RunRoute = ({ basePath, runs }) => ({
  method: 'GET',
  path: `${basePath}/{id}/runs`,
  summary: 'List runs, newest first',
  query: listRunsQuery,
  responses: ok('Runs', runsSchema),
  handler: async (req) => {
    const query = queryOf(req, listRunsQuery);
    const taskID = param(req, 'id');
    const list = await runs.list(req.access, taskID, {
      after: query.after,
      limit: checkTaskPageLimit(query.limit),
      ...timeWindow(query.afterTime, query.beforeTime),
    });
    return json(200, {
      runs: list.map((run) => toRunJson(run, basePath)),
      links: { self: `${basePath}/${taskID}/runs`, task: `${basePath}/${taskID}` },
    });
  },
});

const runManually: RunRoute = ({ basePath, runs }) => ({
  method: 'POST',
  path: `${basePath}/{id}/runs`,
  summary: 'Run now, or at scheduledFor',
  body: named('RunManuallyRequest', runManuallyBody),
  responses: created('The run', runSchema),
  handler: async (req) => {
    const body = req.body === undefined ? {} : parseOrThrow(runManuallyBody, req.body, 'invalid run request');
    const run = await runs.runNow(req.access, param(req, 'id'), body.scheduledFor ?? undefined);
    return json(201, toRunJson(run, basePath));
  },
});

const getRun: RunRoute = ({ basePath, runs }) => ({
  method: 'GET',
  path: `${basePath}/{id}/runs/{runID}`,
  summary: 'Get a run',
  responses: ok(
    'The run; while it is started, its log holds the lines written so far, each within about 2 s',
    runSchema,
  ),
  handler: async (req) =>
    json(200, toRunJson(await runs.get(req.access, param(req, 'id'), param(req, 'runID')), basePath)),
});

const cancelRun: RunRoute = ({ basePath, runs }) => ({
  method: 'DELETE',
  path: `${basePath}/{id}/runs/{runID}`,
  summary: 'Cancel a run, queued or running',
  responses: { 204: { description: 'Canceled' } },
  handler: async (req) => {
    await runs.cancel(req.access, param(req, 'id'), param(req, 'runID'));
    return noContent();
  },
});

const retryRun: RunRoute = ({ basePath, runs }) => ({
  method: 'POST',
  path: `${basePath}/{id}/runs/{runID}/retry`,
  summary: 'Retry a finished run',
  responses: ok('The new run', runSchema),
  handler: async (req) =>
    json(200, toRunJson(await runs.retry(req.access, param(req, 'id'), param(req, 'runID')), basePath)),
});

const runLogs: RunRoute = ({ basePath, runs }) => ({
  method: 'GET',
  path: `${basePath}/{id}/runs/{runID}/logs`,
  summary: 'Logs of a run',
  responses: ok(
    'Log events; while the run is started, the lines written so far, each within about 2 s of being written',
    logEventsSchema,
  ),
  handler: async (req) =>
    json(200, { events: await runs.runLogs(req.access, param(req, 'id'), param(req, 'runID')) }),
});

const taskLogs: RunRoute = ({ basePath, runs }) => ({
  method: 'GET',
  path: `${basePath}/{id}/logs`,
  summary: 'Logs of recent runs',
  responses: ok('Log events', logEventsSchema),
  handler: async (req) => json(200, { events: await runs.taskLogs(req.access, param(req, 'id')) }),
});

const RUN_ROUTES: readonly RunRoute[] = [
  listRuns,
  runManually,
  getRun,
  cancelRun,
  retryRun,
  runLogs,
  taskLogs,
];

/**
 * The InfluxDB runs and logs routes under a system's base path. Every system whose
 * tasks have runs mounts the same routes on its own TaskService scope.
 */
export function runRoutes(basePath: string, runs: ScopedRunService): RouteDef[] {
  return RUN_ROUTES.map((route) => route({ basePath, runs }));
}
