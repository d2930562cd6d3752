import * as z from 'zod';
import { isSecretHeader, REDACTED, secretValueProblem } from '../../auth/secrets';
import { headersSchema } from '../../runners/target';

const common = {
  orgID: z.string().min(1).max(64).optional(),
  name: z.string().trim().min(1).max(256),
  description: z.string().max(4096).optional(),
  status: z.enum(['active', 'inactive']).optional(),
  /** InfluxDB's clients send the labels they read; Rota attaches none yet, so they are dropped. */
  labels: z.array(z.unknown()).max(100).optional(),
};
const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http or https URL' });
/** A credential: long enough to scrub from logs, or `<redacted>` to keep the stored one. */
const secret = (max: number) =>
  z
    .string()
    .max(max)
    .superRefine((value, ctx) => {
      const problem = secretValueProblem(value);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    });

export const httpEndpointBody = z
  .strictObject({
    ...common,
    type: z.literal('http'),
    url: httpUrl,
    method: z.enum(['POST', 'PUT', 'GET']).default('POST'),
    headers: headersSchema.optional(),
    authMethod: z.enum(['none', 'basic', 'bearer']).default('none'),
    username: z.string().max(256).optional(),
    password: secret(1024).optional(),
    token: secret(4096).optional(),
  })
  .superRefine((e, ctx) => {
    if (e.authMethod === 'basic' && (!e.username || !e.password)) {
      ctx.addIssue({ code: 'custom', message: 'basic auth needs username and password', path: ['username'] });
    }
    if (e.authMethod === 'bearer' && !e.token) {
      ctx.addIssue({ code: 'custom', message: 'bearer auth needs a token', path: ['token'] });
    }
  });

/** Slack's Web API, which a token-authenticated Slack endpoint posts to (InfluxDB's default). */
export const SLACK_POST_MESSAGE_URL = 'https://slack.com/api/chat.postMessage';

/**
 * Slack: an incoming webhook `url` (the URL is the credential), or, as InfluxDB also
 * allows, a bot `token` for chat.postMessage with the rule's `channel`.
 */
export const slackEndpointBody = z
  .strictObject({
    ...common,
    type: z.literal('slack'),
    url: httpUrl.optional(),
    token: secret(4096).optional(),
  })
  .superRefine((e, ctx) => {
    if (!e.url && !e.token) {
      ctx.addIssue({
        code: 'custom',
        message: 'a Slack endpoint needs a webhook url or a token',
        path: ['url'],
      });
    }
  });

/** Telegram's Bot API; the bot token goes in the path, so it is sealed and scrubbed like any credential. */
export const TELEGRAM_API_URL = 'https://api.telegram.org';

export const telegramEndpointBody = z.strictObject({
  ...common,
  type: z.literal('telegram'),
  token: secret(256),
  /** The chat id or `@channelname` to post to. */
  channel: z.string().trim().min(1).max(256),
});

export const pagerDutyEndpointBody = z.strictObject({
  ...common,
  type: z.literal('pagerduty'),
  routingKey: secret(256),
  url: httpUrl.default('https://events.pagerduty.com/v2/enqueue'),
  clientURL: httpUrl.optional(),
});

export const endpointBody = z.discriminatedUnion('type', [
  httpEndpointBody,
  slackEndpointBody,
  pagerDutyEndpointBody,
  telegramEndpointBody,
]);
export type EndpointBody = z.infer<typeof endpointBody>;

/** Every stored endpoint has the URL it sends to: Slack's Web API for a token, Telegram's Bot API. */
export function withSendUrl(body: EndpointBody): EndpointBody & { url: string } {
  const { labels: _labels, ...kept } = body;
  if (kept.type === 'telegram') return { ...kept, url: TELEGRAM_API_URL };
  if (kept.type === 'slack') return { ...kept, url: kept.url ?? SLACK_POST_MESSAGE_URL };
  return kept;
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

export type NotificationEndpoint = DistributiveOmit<EndpointBody, 'orgID' | 'status'> & {
  id: string;
  url: string;
  /** Slack only: the webhook URL is stored sealed; its origin is kept for display. */
  urlOrigin?: string;
  orgID: string;
  status: 'active' | 'inactive';
  description: string;
  createdAt: string;
  updatedAt: string;
  version: number;
};

export const SECRET_FIELDS = ['password', 'token', 'routingKey'] as const;

/** What GET shows: credentials, secret headers and the secret part of webhook URLs are redacted. */
export function redactEndpoint(endpoint: NotificationEndpoint): NotificationEndpoint {
  const out: Record<string, unknown> = { ...endpoint };
  for (const field of SECRET_FIELDS) if (out[field] !== undefined) out[field] = REDACTED;
  if (endpoint.type === 'http' && endpoint.headers) {
    out.headers = Object.fromEntries(
      Object.entries(endpoint.headers).map(([k, v]) => [k, isSecretHeader(k) ? REDACTED : v]),
    );
  }
  // A Slack webhook URL is itself the credential: keep only its origin.
  if (endpoint.type === 'slack') {
    out.url = `${endpoint.urlOrigin ?? new URL(endpoint.url).origin}/${REDACTED}`;
    delete out.urlOrigin;
  }
  return out as NotificationEndpoint;
}
