import type { CheckStatus } from '../checks/model';
import type { NotificationEndpoint } from './endpoint-model';

export interface Notification {
  ruleID: string;
  ruleName: string;
  /** The rule's Slack channel (a token-authenticated endpoint) . */
  channel?: string | undefined;
  status: CheckStatus;
  message: string;
}

export interface OutgoingRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string;
}

const PAGERDUTY_SEVERITY: Record<string, string> = {
  CRIT: 'critical',
  WARN: 'warning',
  INFO: 'info',
  OK: 'info',
  UNKNOWN: 'error',
};

const JSON_CONTENT = { 'content-type': 'application/json' };

type EndpointOf<T extends NotificationEndpoint['type']> = Extract<NotificationEndpoint, { type: T }>;

/** A generic webhook: the notification as JSON, with the endpoint's headers and credentials. */
function httpRequest(endpoint: EndpointOf<'http'>, n: Notification): OutgoingRequest {
  const { status } = n;
  const headers: Record<string, string> = { ...JSON_CONTENT, ...endpoint.headers };
  if (endpoint.authMethod === 'basic') {
    headers.authorization = `Basic ${Buffer.from(`${endpoint.username}:${endpoint.password}`).toString('base64')}`;
  } else if (endpoint.authMethod === 'bearer') {
    headers.authorization = `Bearer ${endpoint.token}`;
  }
  const body = {
    ruleID: n.ruleID,
    ruleName: n.ruleName,
    checkID: status.checkID,
    checkName: status.checkName,
    level: status.level,
    previousLevel: status.previousLevel,
    message: n.message,
    value: status.value,
    time: status.time,
    tags: status.tags,
  };
  return { url: endpoint.url, method: endpoint.method, headers, body: JSON.stringify(body) };
}

/**
 * Slack: an incoming webhook gets the message as text and as blocks with the level and
 * where it came from; with a token, the same goes to chat.postMessage in the rule's channel.
 */
function slackRequest(endpoint: EndpointOf<'slack'>, n: Notification): OutgoingRequest {
  const { status } = n;
  const auth: Record<string, string> = endpoint.token ? { authorization: `Bearer ${endpoint.token}` } : {};
  return {
    url: endpoint.url,
    method: 'POST',
    headers: { ...JSON_CONTENT, ...auth },
    body: JSON.stringify({
      ...(endpoint.token && n.channel ? { channel: n.channel } : {}),
      text: n.message,
      blocks: [
        { type: 'section', text: { type: 'mrkdwn', text: `*${status.level}* ${n.message}` } },
        {
          type: 'context',
          elements: [
            { type: 'mrkdwn', text: `check ${status.checkName} · rule ${n.ruleName} · ${status.time}` },
          ],
        },
      ],
    }),
  };
}

/** Telegram's sendMessage, to the endpoint's channel. */
function telegramRequest(endpoint: EndpointOf<'telegram'>, n: Notification): OutgoingRequest {
  return {
    url: `${endpoint.url}/bot${endpoint.token}/sendMessage`,
    method: 'POST',
    headers: { ...JSON_CONTENT },
    body: JSON.stringify({ chat_id: endpoint.channel, text: n.message.slice(0, 4096) }),
  };
}

/** A PagerDuty Events v2 event. */
function pagerDutyRequest(endpoint: EndpointOf<'pagerduty'>, n: Notification): OutgoingRequest {
  const { status } = n;
  return {
    url: endpoint.url,
    method: 'POST',
    headers: { ...JSON_CONTENT },
    body: JSON.stringify({
      routing_key: endpoint.routingKey,
      // OK resolves the incident that CRIT opened: the dedup key ties them together.
      event_action: status.level === 'OK' ? 'resolve' : 'trigger',
      dedup_key: `${n.ruleID}:${status.checkID}`,
      ...(endpoint.clientURL ? { client_url: endpoint.clientURL } : {}),
      payload: {
        summary: n.message.slice(0, 1024),
        source: status.checkName,
        severity: PAGERDUTY_SEVERITY[status.level] ?? 'error',
        timestamp: status.time,
        custom_details: { value: status.value, previousLevel: status.previousLevel, tags: status.tags },
      },
    }),
  };
}

/** One notification in the endpoint's own format: JSON for http, Slack blocks, a PagerDuty Events v2 event, or a Telegram message. */
export function formatNotification(endpoint: NotificationEndpoint, n: Notification): OutgoingRequest {
  switch (endpoint.type) {
    case 'http':
      return httpRequest(endpoint, n);
    case 'slack':
      return slackRequest(endpoint, n);
    case 'pagerduty':
      return pagerDutyRequest(endpoint, n);
    case 'telegram':
      return telegramRequest(endpoint, n);
  }
}
