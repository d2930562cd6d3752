import * as z from 'zod';
import { isSecretHeader, secretValueProblem } from '../auth/secrets';
import { CLIENT_OWNED_HEADERS_TEXT, headerValueProblem, isClientOwnedHeader } from '../net/headers';
import {
  AWS_TARGET_FORMS,
  isEventBus,
  isLambdaFunction,
  isSnsTopicArn,
  isSqsQueueForm,
} from './aws-resources';

/** Caps that keep a target (and so a task item) small. */
export const TARGET_LIMITS = { bodyBytes: 32 * 1024, headers: 50, headerValueLength: 8192 } as const;

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

const payloadSchema = z.unknown().superRefine((value, ctx) => {
  if (value !== undefined && Buffer.byteLength(JSON.stringify(value) ?? '') > TARGET_LIMITS.bodyBytes) {
    ctx.addIssue({ code: 'custom', message: `must be at most ${TARGET_LIMITS.bodyBytes} bytes` });
  }
});

/**
 * Headers a target, probe or endpoint sends. Each problem is reported at the header's
 * own path (`target.headers.Host: …`), so the 400 names it.
 */
export const headersSchema = z
  .record(
    z.string().regex(HEADER_NAME, 'invalid header name'),
    z.string().max(TARGET_LIMITS.headerValueLength),
  )
  .refine((h) => Object.keys(h).length <= TARGET_LIMITS.headers, {
    message: `at most ${TARGET_LIMITS.headers} headers`,
  })
  .superRefine((headers, ctx) => {
    for (const [name, value] of Object.entries(headers)) {
      const problem = isClientOwnedHeader(name)
        ? `is set by Rota's HTTP client; framing, hop-by-hop and routing headers (${CLIENT_OWNED_HEADERS_TEXT}) cannot be set`
        : (headerValueProblem(value) ?? (isSecretHeader(name) ? secretValueProblem(value) : undefined));
      if (problem) ctx.addIssue({ code: 'custom', message: problem, path: [name] });
    }
  });

export const httpTargetSchema = z.strictObject({
  kind: z.literal('http'),
  url: z.url({ protocol: /^https?$/, error: 'must be an http or https URL' }),
  method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD']).default('POST'),
  headers: headersSchema.optional(),
  /** A string is sent as is; anything else is sent as JSON. */
  body: payloadSchema.optional(),
});

/** The shape of an AWS resource field; the region and partition are checked against the deployment (aws-resources.ts). */
const awsResource = (form: (value: string) => boolean, message: string) =>
  z.string().max(2048).refine(form, { message });

export const lambdaTargetSchema = z.strictObject({
  kind: z.literal('lambda'),
  functionName: awsResource(isLambdaFunction, AWS_TARGET_FORMS.functionName),
  payload: payloadSchema.optional(),
});

export const sqsTargetSchema = z.strictObject({
  kind: z.literal('sqs'),
  /** A queue URL or ARN; never an endpoint: the runner rebuilds the URL for the configured one. */
  queueUrl: awsResource(isSqsQueueForm, AWS_TARGET_FORMS.queueUrl),
  payload: payloadSchema.optional(),
  /** Required by FIFO queues. */
  messageGroupId: z.string().min(1).max(128).optional(),
});

export const snsTargetSchema = z.strictObject({
  kind: z.literal('sns'),
  topicArn: awsResource(isSnsTopicArn, AWS_TARGET_FORMS.topicArn),
  subject: z.string().min(1).max(100).optional(),
  payload: payloadSchema.optional(),
});

export const eventBridgeTargetSchema = z.strictObject({
  kind: z.literal('eventbridge'),
  eventBusName: awsResource(isEventBus, AWS_TARGET_FORMS.eventBusName).default('default'),
  source: z.string().min(1).max(256),
  detailType: z.string().min(1).max(128),
  payload: payloadSchema.optional(),
});

/**
 * The task's Flux script runs on an InfluxDB v2 API (`POST /api/v2/query`): the one the
 * operator configures, or the task's own `url`. The token goes in `headers` as
 * `Authorization: Token …`, sealed like any credential header.
 */
export const fluxTargetSchema = z.strictObject({
  kind: z.literal('flux'),
  url: z.url({ protocol: /^https?$/, error: 'must be an http or https URL' }).optional(),
  org: z.string().min(1).max(256).optional(),
  headers: headersSchema.optional(),
});

const TARGET_SCHEMAS = [
  httpTargetSchema,
  fluxTargetSchema,
  lambdaTargetSchema,
  sqsTargetSchema,
  snsTargetSchema,
  eventBridgeTargetSchema,
] as const;

/** Every target kind, for messages that list the valid ones. */
export const TARGET_KINDS = TARGET_SCHEMAS.map((schema) => schema.shape.kind.value);

export const targetSchema = z.discriminatedUnion('kind', TARGET_SCHEMAS, {
  error: (issue) =>
    issue.code === 'invalid_union'
      ? `must be one of ${TARGET_KINDS.map((kind) => `"${kind}"`).join(', ')}`
      : issue.code === 'invalid_type' && issue.input === undefined
        ? `required (an object with kind ${TARGET_KINDS.join(', ')})`
        : undefined,
});

export type Target = z.infer<typeof targetSchema>;
export type HttpTarget = z.infer<typeof httpTargetSchema>;
export type FluxTarget = z.infer<typeof fluxTargetSchema>;
export type LambdaTarget = z.infer<typeof lambdaTargetSchema>;
export type SqsTarget = z.infer<typeof sqsTargetSchema>;
export type SnsTarget = z.infer<typeof snsTargetSchema>;
export type EventBridgeTarget = z.infer<typeof eventBridgeTargetSchema>;

/** What a non-http target receives: the target's payload plus the run's identity. */
export interface TargetMessage {
  taskID: string;
  runID: string;
  scheduledFor: string;
  payload?: unknown;
}
