import type { CheckStatus } from '../checks/model';
import type { NotificationEndpoint } from './endpoint-model';

export interface Notification {
  ruleID: string;
  ruleName: string;
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

/** One notification in the endpoint's own format: JSON for http, Slack blocks, or a PagerDuty Events v2 event. */
export function formatNotification(endpoint: NotificationEndpoint, n: Notification): OutgoingRequest {
  const { status } = n;
  const json = { 'content-type': 'application/json' };
  switch (endpoint.type) {
    case 'http': {
      const headers: Record<string, string> = { ...json, ...endpoint.headers };
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
    case 'slack':
      return {
        url: endpoint.url,
        method: 'POST',
        headers: json,
        body: JSON.stringify({
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
    case 'pagerduty':
      return {
        url: endpoint.url,
        method: 'POST',
        headers: json,
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
}
