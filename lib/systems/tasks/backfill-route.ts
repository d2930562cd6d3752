import * as z from 'zod';
import { param } from '../../http/request';
import { json } from '../../http/response';
import { created, named, type RouteDef } from '../../http/route';
import type { ScopedRunService } from '../../run/run-service';
import { overlapSchema } from '../../task/model';
import { parseOrThrow } from '../../validation';

export const backfillBody = named(
  'BackfillRequest',
  z.strictObject({
    /** The first instant covered (inclusive), RFC3339. */
    start: z.iso.datetime({ offset: true }),
    /** The end of the range (exclusive), RFC3339; not after now. */
    end: z.iso.datetime({ offset: true }),
    /** What a backfilled run does when the task's slots are busy; the task's own overlap does not apply. */
    overlap: overlapSchema.default('queue'),
  }),
);

const backfillResponse = named(
  'Backfill',
  z.object({
    /** Runs promised: one per schedule instant in the range. */
    runs: z.number().int(),
    /** Of those, the runs this call created (a repeated backfill creates none). */
    created: z.number().int(),
  }),
);

/** `POST {basePath}/{id}/backfill`: one run per schedule instant in `[start, end)`. */
export function backfillRoute(basePath: string, runs: ScopedRunService): RouteDef {
  return {
    method: 'POST',
    path: `${basePath}/{id}/backfill`,
    summary: 'Run every schedule instant in [start, end), oldest first',
    body: backfillBody,
    responses: created('How many runs the backfill covers', backfillResponse),
    handler: async (req) => {
      const body = parseOrThrow(backfillBody, req.body ?? {}, 'invalid backfill');
      return json(201, await runs.backfill(req.access, param(req, 'id'), body));
    },
  };
}
