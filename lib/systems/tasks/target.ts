import * as z from 'zod';

/** Caps that keep a target (and so a task item) small. */
export const TARGET_LIMITS = { bodyBytes: 32 * 1024, headers: 50, headerValueLength: 8192 } as const;

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

const payloadSchema = z.unknown().superRefine((value, ctx) => {
  if (value !== undefined && Buffer.byteLength(JSON.stringify(value) ?? '') > TARGET_LIMITS.bodyBytes) {
    ctx.addIssue({ code: 'custom', message: `must be at most ${TARGET_LIMITS.bodyBytes} bytes` });
  }
});

export const headersSchema = z
  .record(
    z.string().regex(HEADER_NAME, 'invalid header name'),
    z.string().max(TARGET_LIMITS.headerValueLength),
  )
  .refine((h) => Object.keys(h).length <= TARGET_LIMITS.headers, {
    message: `at most ${TARGET_LIMITS.headers} headers`,
  });

export const httpTargetSchema = z.strictObject({
  kind: z.literal('http'),
  url: z.url({ protocol: /^https?$/, error: 'must be an http or https URL' }),
  method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD']).default('POST'),
  headers: headersSchema.optional(),
  /** A string is sent as is; anything else is sent as JSON. */
  body: payloadSchema.optional(),
});

const functionName = z
  .string()
  .regex(
    /^(arn:aws[\w-]*:lambda:[a-z0-9-]+:\d{12}:function:)?[A-Za-z0-9_-]{1,140}(:[A-Za-z0-9$_-]+)?$/,
    'must be a Lambda function name or ARN',
  );

export const lambdaTargetSchema = z.strictObject({
  kind: z.literal('lambda'),
  functionName,
  payload: payloadSchema.optional(),
});

export const sqsTargetSchema = z.strictObject({
  kind: z.literal('sqs'),
  queueUrl: z.url({ protocol: /^https?$/ }),
  payload: payloadSchema.optional(),
  /** Required by FIFO queues. */
  messageGroupId: z.string().min(1).max(128).optional(),
});

export const snsTargetSchema = z.strictObject({
  kind: z.literal('sns'),
  topicArn: z
    .string()
    .regex(/^arn:aws[\w-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_.-]{1,256}$/, 'must be an SNS topic ARN'),
  subject: z.string().min(1).max(100).optional(),
  payload: payloadSchema.optional(),
});

export const eventBridgeTargetSchema = z.strictObject({
  kind: z.literal('eventbridge'),
  eventBusName: z.string().min(1).max(1600).default('default'),
  source: z.string().min(1).max(256),
  detailType: z.string().min(1).max(128),
  payload: payloadSchema.optional(),
});

export const targetSchema = z.discriminatedUnion('kind', [
  httpTargetSchema,
  lambdaTargetSchema,
  sqsTargetSchema,
  snsTargetSchema,
  eventBridgeTargetSchema,
]);

export type Target = z.infer<typeof targetSchema>;
export type HttpTarget = z.infer<typeof httpTargetSchema>;
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
