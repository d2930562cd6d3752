import * as z from 'zod';
import { named, pageLinksSchema } from '../../http/route';
import { scheduleExtraResponseFields, taskIdentityFields, taskRunStateFields } from '../shared/task-fields';
import { levelSchema, probeSchema, statusLevelSchema, tagsSchema, thresholdSchema } from './model';

const optionalString = z.string().optional();

/** InfluxDB's Check: `type` is threshold or deadman; probe credentials come back as `<redacted>`. */
export const checkSchema = named(
  'Check',
  z.object({
    ...taskIdentityFields,
    type: z.enum(['threshold', 'deadman']),
    every: optionalString,
    offset: optionalString,
    ...scheduleExtraResponseFields,
    probe: probeSchema,
    thresholds: z.array(thresholdSchema).optional(),
    timeSince: optionalString,
    level: levelSchema.optional(),
    statusMessageTemplate: z.string(),
    tags: tagsSchema,
    ...taskRunStateFields,
    links: z.object({ self: z.string(), statuses: z.string(), runs: z.string() }),
  }),
);

export const checksSchema = named(
  'Checks',
  z.object({ checks: z.array(checkSchema), links: pageLinksSchema }),
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
