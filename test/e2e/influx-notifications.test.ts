import { InfluxDB } from '@influxdata/influxdb-client';
import {
  type NotificationEndpoint,
  NotificationEndpointsAPI,
  type NotificationRule,
  NotificationRulesAPI,
} from '@influxdata/influxdb-client-apis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalRota, startLocal } from '../../local/start';
import { type RecordedAnswer, recordingTransport, violationsOf } from '../support/influx-recording';

const TOKEN = 'test-operator-token';
const orgID = 'notify-org';

/** InfluxDB's notification rules and endpoints, through its own client, with the bodies its UI sends. */
describe("InfluxDB's notification rules and endpoints in local mode", () => {
  let rota: LocalRota;
  let endpointsApi: NotificationEndpointsAPI;
  let rulesApi: NotificationRulesAPI;
  /** Every answer the official client received, checked against the contract at the end. */
  const answers: RecordedAnswer[] = [];

  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${rota.url}${path}`, {
      method,
      headers: { 'content-type': 'application/json', authorization: `Token ${TOKEN}` },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as Record<string, unknown> };
  };

  beforeAll(async () => {
    rota = await startLocal({ port: 0, env: { ROTA_BOOTSTRAP_TOKEN: TOKEN } });
    const plain = new InfluxDB({ url: rota.url, token: TOKEN });
    const influx = new InfluxDB({
      url: rota.url,
      token: TOKEN,
      transport: recordingTransport(plain.transport, answers),
    });
    endpointsApi = new NotificationEndpointsAPI(influx);
    rulesApi = new NotificationRulesAPI(influx);
  });
  afterAll(async () => {
    await rota?.stop();
  });

  const slackWithToken = (name: string) =>
    ({
      orgID,
      name,
      type: 'slack',
      status: 'active',
      token: 'xoxb-0000-secret-token',
      labels: [],
    }) as unknown as NotificationEndpoint;

  it('creates a Slack endpoint with a token and a Telegram endpoint, credentials redacted', async () => {
    const slack = await endpointsApi.createNotificationEndpoint({ body: slackWithToken('slack bot') });
    expect(slack).toMatchObject({ type: 'slack', name: 'slack bot', token: '<redacted>' });
    const telegram = await endpointsApi.createNotificationEndpoint({
      body: {
        orgID,
        name: 'tg',
        type: 'telegram',
        token: '123456:telegram-bot-secret',
        channel: '-100200',
      } as NotificationEndpoint,
    });
    expect(telegram).toMatchObject({ type: 'telegram', channel: '-100200', token: '<redacted>' });
    expect(JSON.stringify(telegram)).not.toContain('telegram-bot-secret');
  });

  it("accepts the UI's rule body (ANY, period, count, channel, labels) and always answers the rule's type", async () => {
    const endpoint = await endpointsApi.createNotificationEndpoint({ body: slackWithToken('for rules') });
    const body = {
      orgID,
      name: 'any change',
      type: 'slack',
      status: 'active',
      endpointID: endpoint.id,
      every: '10m',
      offset: '0s',
      channel: '#ops',
      messageTemplate:
        'Notification Rule: ${ r._notification_rule_name } triggered by check: ${ r._check_name }',
      statusRules: [{ currentLevel: 'CRIT', previousLevel: 'ANY', period: '10m', count: 1 }],
      tagRules: [],
      labels: [],
    } as unknown as NotificationRule;
    const rule = await rulesApi.createNotificationRule({ body });
    expect(rule).toMatchObject({
      type: 'slack',
      channel: '#ops',
      statusRules: [{ currentLevel: 'CRIT', previousLevel: 'ANY', period: '10m', count: 1 }],
      labels: [],
    });

    const patched = await api('PATCH', `/api/v2/notificationRules/${rule.id}`, { status: 'inactive' });
    expect(patched.body).toMatchObject({ type: 'slack', status: 'inactive' });
    const listed = await rulesApi.getNotificationRules({ orgID });
    expect((listed.notificationRules ?? []).find((r) => r.id === rule.id)).toMatchObject({ type: 'slack' });

    const replaced = await rulesApi.putNotificationRulesID({
      ruleID: rule.id ?? '',
      body: {
        ...rule,
        name: 'replaced',
        channel: undefined,
        statusRules: [{ currentLevel: 'ANY' }],
      } as NotificationRule,
    });
    expect(replaced).toMatchObject({
      name: 'replaced',
      type: 'slack',
      statusRules: [{ currentLevel: 'ANY' }],
    });
    expect(replaced).not.toHaveProperty('channel');
  });

  it('replaces an endpoint with PUT, keeping a credential sent back redacted; its type stays', async () => {
    const endpoint = await endpointsApi.createNotificationEndpoint({
      body: {
        orgID,
        name: 'hook',
        type: 'http',
        method: 'POST',
        authMethod: 'bearer',
        token: 'bearer-secret-1',
        url: 'http://127.0.0.1:9/hook',
      } as NotificationEndpoint,
    });
    const replaced = await endpointsApi.putNotificationEndpointsID({
      endpointID: endpoint.id ?? '',
      body: { ...endpoint, name: 'hook 2', description: 'replaced' } as NotificationEndpoint,
    });
    expect(replaced).toMatchObject({
      name: 'hook 2',
      description: 'replaced',
      token: '<redacted>',
      authMethod: 'bearer',
    });

    const retyped = await api('PUT', `/api/v2/notificationEndpoints/${endpoint.id}`, {
      ...endpoint,
      type: 'slack',
    });
    expect(retyped.status).toBe(400);
    expect(String(retyped.body.message)).toContain('type');
  });

  it('pages rules and endpoints with offset and limit (default 20)', async () => {
    const org = 'paged-notify-org';
    const ids: string[] = [];
    for (let i = 0; i < 22; i++) {
      const e = await endpointsApi.createNotificationEndpoint({
        body: { ...slackWithToken(`e${i}`), orgID: org } as NotificationEndpoint,
      });
      ids.push(e.id ?? '');
    }
    const first = await endpointsApi.getNotificationEndpoints({ orgID: org });
    expect(first.notificationEndpoints).toHaveLength(20);
    expect(first.links?.next).toContain('offset=20');
    const rest = await endpointsApi.getNotificationEndpoints({ orgID: org, offset: 20 });
    expect(rest.notificationEndpoints).toHaveLength(2);
    expect(
      new Set(
        [...(first.notificationEndpoints ?? []), ...(rest.notificationEndpoints ?? [])].map((e) => e.id),
      ),
    ).toEqual(new Set(ids));

    for (let i = 0; i < 3; i++) {
      await rulesApi.createNotificationRule({
        body: {
          orgID: org,
          name: `r${i}`,
          type: 'slack',
          status: 'inactive',
          endpointID: ids[0],
          every: '1h',
          messageTemplate: 'x',
          statusRules: [{ currentLevel: 'CRIT' }],
        } as unknown as NotificationRule,
      });
    }
    const page = await rulesApi.getNotificationRules({ orgID: org, offset: 1, limit: 1 });
    expect(page.notificationRules ?? []).toHaveLength(1);
    expect(page.links?.prev).toBeDefined();
    expect(page.links?.next).toContain('offset=2');
    expect((await api('GET', `/api/v2/notificationRules?orgID=${org}&limit=101`)).status).toBe(400);
  });

  it("every answer InfluxDB's client received conforms to the vendored contract", () => {
    expect(answers.length).toBeGreaterThan(10);
    expect(violationsOf(answers)).toEqual([]);
  });
});
