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

/** InfluxDB's ThresholdBase: `allValues` alerts only when every value in the window crosses. */
const thresholdBase = { level: levelSchema, allValues: z.boolean().optional() };
const greater = z.strictObject({ ...thresholdBase, type: z.literal('greater'), value: z.number() });
const lesser = z.strictObject({ ...thresholdBase, type: z.literal('lesser'), value: z.number() });
const range = z
  .strictObject({
    ...thresholdBase,
    type: z.literal('range'),
    min: z.number(),
    max: z.number(),
    /** true: inside [min, max] matches; false: outside matches. */
    within: z.boolean().default(true),
  })
  .refine((t) => t.min <= t.max, { message: 'min must not be greater than max' });
export const thresholdSchema = z.discriminatedUnion('type', [greater, lesser, range]);
export type Threshold = z.infer<typeof thresholdSchema>;

const MAX_TAGS = 50;
const tagKey = z.string().min(1).max(128);
/** In the list form a key is a value, which the body's key check does not see: it becomes one here. */
const listedTagKey = tagKey.refine((key) => key !== '__proto__' && key !== 'constructor', {
  message: 'the key is not allowed as a tag key',
});
const tagValue = z.string().max(256);

/** Stored tags: one value per key. */
export const tagsSchema = z
  .record(tagKey, tagValue)
  .refine((t) => Object.keys(t).length <= MAX_TAGS, { message: `at most ${MAX_TAGS} tags` });

/**
 * Tags as a body may send them: InfluxDB's list of `{key, value}` (what its UI and
 * clients send), or Rota's object. `tagRecord` stores either as the object.
 */
export const tagsInputSchema = z.union([
  z.array(z.strictObject({ key: listedTagKey, value: tagValue })).max(MAX_TAGS),
  tagsSchema,
]);

/** A repeated key keeps its last value, as a later InfluxDB tag overwrites an earlier one. */
export const tagRecord = (tags: z.infer<typeof tagsInputSchema>): Record<string, string> =>
  Array.isArray(tags) ? Object.fromEntries(tags.map((t) => [t.key, t.value])) : tags;

/** InfluxDB's list form, which every check response uses. */
export const tagList = (tags: Record<string, string>) =>
  Object.entries(tags).map(([key, value]) => ({ key, value }));

export const FLUX_QUERY_MAX_CHARS = 64 * 1024;

/**
 * InfluxDB's DashboardQuery, as its UI sends it with a check. `text` is the Flux that a
 * check without a probe runs; the builder's state is kept as given, for the UI.
 */
export const querySchema = z.object({
  text: z.string().max(FLUX_QUERY_MAX_CHARS).optional(),
  editMode: z.enum(['builder', 'advanced']).optional(),
  name: z.string().max(256).optional(),
  builderConfig: z.record(z.string(), z.unknown()).optional(),
});
export type CheckQuery = z.infer<typeof querySchema>;

// biome-ignore lint/suspicious/noTemplateCurlyInString: a message template, rendered per status
const THRESHOLD_TEMPLATE = '${check.name} is ${level}: ${value}';
// biome-ignore lint/suspicious/noTemplateCurlyInString: a message template, rendered per status
const DEADMAN_TEMPLATE = '${check.name} is ${level}';

const staleness = durationSchema({ negative: false, invalid: 'must be a duration such as 90s or 5m' });

/** What a check measures: an HTTP probe (Rota's) or a Flux query (InfluxDB's). */
const measured = { probe: probeSchema.optional(), query: querySchema.optional() };

const thresholdCheck = z.strictObject({
  kind: z.literal('threshold'),
  ...measured,
  thresholds: z.array(thresholdSchema).min(1, 'a threshold check needs at least one threshold').max(20),
  statusMessageTemplate: z.string().max(4096).default(THRESHOLD_TEMPLATE),
  tags: tagsSchema.default({}),
});

const deadmanCheck = z.strictObject({
  kind: z.literal('deadman'),
  ...measured,
  /** CRIT (or `level`) when no value (no probe success) has come for this long, e.g. `90s`. */
  timeSince: staleness,
  /** A Flux series silent for longer than this is stale: dropped, not reported (InfluxDB's). */
  staleTime: staleness.optional(),
  /** Only zero values since `timeSince` also count as dead (InfluxDB's). */
  reportZero: z.boolean().default(false),
  level: levelSchema.default('CRIT'),
  statusMessageTemplate: z.string().max(4096).default(DEADMAN_TEMPLATE),
  tags: tagsSchema.default({}),
});

/** A check measures with exactly one of a probe and a Flux query. */
export function oneMeasure(
  check: { probe?: unknown; query?: CheckQuery | undefined },
  ctx: z.RefinementCtx,
): void {
  const flux = check.query?.text?.trim();
  if (check.probe !== undefined && flux) {
    ctx.addIssue({
      code: 'custom',
      message: 'a check takes either probe or query.text, not both',
      path: ['probe'],
    });
  } else if (check.probe === undefined && !flux) {
    ctx.addIssue({
      code: 'custom',
      message: 'a check needs a probe (an HTTP URL) or query.text (a Flux query)',
      path: ['query'],
    });
  }
}

/** The metadata the checks system keeps on each check task. */
export const checkMetadataSchema = z
  .discriminatedUnion('kind', [thresholdCheck, deadmanCheck])
  .superRefine(oneMeasure);
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
