import * as z from 'zod';
import { named } from '../../http/route';
import { labelSchema } from '../labels/model';
import { offsetLinksSchema } from '../shared/offset-paging';
import { scheduleExtraResponseFields, taskIdentityFields, taskRunStateFields } from '../shared/task-fields';
import { levelSchema, probeSchema, querySchema, statusLevelSchema, thresholdSchema } from './model';

const optionalString = z.string().optional();

/**
 * InfluxDB's Check: `type` is threshold or deadman, `query` its Flux (empty for a probe
 * check), tags a list of `{key, value}`. `probe` is Rota's extension; its credentials
 * come back as `<redacted>`.
 */
export const checkSchema = named(
  'Check',
  z.object({
    ...taskIdentityFields,
    type: z.enum(['threshold', 'deadman']),
    every: optionalString,
    offset: optionalString,
    ...scheduleExtraResponseFields,
    query: querySchema,
    probe: probeSchema.optional(),
    thresholds: z.array(thresholdSchema).optional(),
    timeSince: optionalString,
    staleTime: optionalString,
    reportZero: z.boolean().optional(),
    level: levelSchema.optional(),
    statusMessageTemplate: z.string(),
    tags: z.array(z.object({ key: z.string(), value: z.string() })),
    /** The labels attached to it (lib/systems/labels). */
    labels: z.array(labelSchema),
    ...taskRunStateFields,
    links: z.object({ self: z.string(), statuses: z.string(), runs: z.string() }),
  }),
);

export const checksSchema = named(
  'Checks',
  z.object({
    checks: z.array(checkSchema),
    links: offsetLinksSchema,
  }),
);

export const checkStatusSchema = z.object({
  time: z.string(),
  checkID: z.string(),
  checkName: z.string(),
  level: statusLevelSchema,
  previousLevel: statusLevelSchema.optional(),
  message: z.string(),
  value: z.number().optional(),
  error: optionalString,
  tags: z.record(z.string(), z.string()),
  runID: z.string(),
  recordedAt: z.string(),
});

export const checkStatusesSchema = named(
  'CheckStatuses',
  z.object({
    statuses: z.array(checkStatusSchema),
    links: z.object({ self: z.string(), check: z.string() }),
  }),
);
