import { createRunRequestHandler } from '../events/run-requests';
import { logger } from '../observability/logger';
import { runService, stores } from './core';
import type { Part } from './root';

/** Run requests in: a "Run Requested" event becomes a manual run through the runs API's own service. */
export const runRequestHandler: Part<ReturnType<typeof createRunRequestHandler>> = (rota) => {
  const runs = rota.get(runService);
  return createRunRequestHandler({
    getTask: (id) => rota.get(stores).tasks.get(id),
    runsFor: (tasks) => runs.forSystem(tasks),
    allowedSources: rota.config.ROTA_RUN_REQUEST_SOURCES,
    logger,
  });
};
