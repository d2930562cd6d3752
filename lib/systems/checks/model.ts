import * as z from 'zod';
import { headersSchema } from '../../runners/target';
import { type DurationGrammar, durationSchema } from '../../schedule/duration';

/** A probe's deadline: one unit, seconds or milliseconds (`5s`, `500ms`). */
export const PROBE_TIMEOUT: DurationGrammar = { units: ['ms', 's'], single: true, negative: false };
const probeTimeoutSchema = durationSchema({
  ...PROBE_TIMEOUT,
  invalid: 'must be a duration such as 5s or 500ms',
});

export const LEVELS = ['CRIT', 'WARN', 'INFO', 'OK'] as const;
export const levelSchema = z.enum(LEVELS);
/** A probe that could not produce a value reports UNKNOWN, as InfluxDB does. */
export const statusLevelSchema = z.enum([...LEVELS, 'UNKNOWN']);
export type Level = z.infer<typeof statusLevelSchema>;

export const probeSchema = z.strictObject({
  url: z.url({ protocol: /^https?$/, error: 'must be an http or https URL' }),
  method: z.enum(['GET', 'POST', 'HEAD']).default('GET'),
  /** Per-probe deadline, e.g. `5s`. */
  timeout: probeTimeoutSchema.default('5s'),
  /** JSON path whose number is the value, e.g. `data.temperature` or `items[0].load`. Absent: the HTTP status code. */
  field: z.string().min(1).max(256).optional(),
  headers: headersSchema.optional(),
});
export type Probe = z.infer<typeof probeSchema>;

const greater = z.strictObject({ level: levelSchema, type: z.literal('greater'), value: z.number() });
const lesser = z.strictObject({ level: levelSchema, type: z.literal('lesser'), value: z.number() });
const range = z
  .strictObject({
    level: levelSchema,
    type: z.literal('range'),
    min: z.number(),
    max: z.number(),
    /** true: inside [min, max] matches; false: outside matches. */
    within: z.boolean().default(true),
  })
  .refine((t) => t.min <= t.max, { message: 'min must not be greater than max' });
export const thresholdSchema = z.discriminatedUnion('type', [greater, lesser, range]);
export type Threshold = z.infer<typeof thresholdSchema>;

export const tagsSchema = z
  .record(z.string().min(1).max(128), z.string().max(256))
  .refine((t) => Object.keys(t).length <= 50, { message: 'at most 50 tags' });

const thresholdCheck = z.strictObject({
  kind: z.literal('threshold'),
  probe: probeSchema,
  thresholds: z.array(thresholdSchema).min(1, 'a threshold check needs at least one threshold').max(20),
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a message template, rendered per status
  statusMessageTemplate: z.string().max(4096).default('${check.name} is ${level}: ${value}'),
  tags: tagsSchema.default({}),
});

const deadmanCheck = z.strictObject({
  kind: z.literal('deadman'),
  probe: probeSchema,
  /** CRIT (or `level`) when the probe has not succeeded for this long, e.g. `90s`. */
  timeSince: durationSchema({ negative: false, invalid: 'must be a duration such as 90s or 5m' }),
  level: levelSchema.default('CRIT'),
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a message template, rendered per status
  statusMessageTemplate: z.string().max(4096).default('${check.name} is ${level}'),
  tags: tagsSchema.default({}),
});

/** The metadata the checks system keeps on each check task. */
export const checkMetadataSchema = z.discriminatedUnion('kind', [thresholdCheck, deadmanCheck]);
export type CheckMetadata = z.infer<typeof checkMetadataSchema>;

/** One check result, as GET /api/v2/checks/{id}/statuses returns it. */
export interface CheckStatus {
  time: string;
  checkID: string;
  checkName: string;
  level: Level;
  previousLevel?: Level | undefined;
  message: string;
  value?: number | undefined;
  error?: string | undefined;
  tags: Record<string, string>;
  runID: string;
  /** When the status was written; notification rules read statuses in this order. */
  recordedAt: string;
}
