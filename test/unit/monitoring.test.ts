import { describe, expect, it } from 'vitest';
import { createLocalSecretBox, generateSecretsKey, isSealed } from '../../lib/auth/secrets';
import { levelFor } from '../../lib/systems/checks/evaluate';
import type { CheckStatus } from '../../lib/systems/checks/model';
import type { NotificationEndpoint } from '../../lib/systems/notifications/endpoint-model';
import { redactEndpoint } from '../../lib/systems/notifications/endpoint-model';
import { openEndpoint, sealEndpoint } from '../../lib/systems/notifications/endpoint-secrets';
import { formatNotification } from '../../lib/systems/notifications/format';
import { statusRulesMatch, tagRulesMatch } from '../../lib/systems/notifications/rule-runner';
import { renderTemplate, valueAt } from '../../lib/systems/shared/template';

describe('thresholds', () => {
  const thresholds = [
    { level: 'CRIT' as const, type: 'greater' as const, value: 90 },
    { level: 'WARN' as const, type: 'range' as const, min: 70, max: 90, within: true },
    { level: 'INFO' as const, type: 'lesser' as const, value: 5 },
  ];
  it.each([
    [95, 'CRIT'],
    [90, 'WARN'],
    [75, 'WARN'],
    [50, 'OK'],
    [1, 'INFO'],
  ])('%d is %s', (value, level) => {
    expect(levelFor(thresholds, value)).toBe(level);
  });

  it('supports outside-of-range thresholds', () => {
    expect(levelFor([{ level: 'WARN', type: 'range', min: 10, max: 20, within: false }], 25)).toBe('WARN');
    expect(levelFor([{ level: 'WARN', type: 'range', min: 10, max: 20, within: false }], 15)).toBe('OK');
  });
});

describe('templates', () => {
  it('render dotted paths and leave unknown ones empty', () => {
    expect(
      renderTemplate('${check.name} is ${level} (${value}) ${nope}', {
        check: { name: 'cpu' },
        level: 'CRIT',
        value: 97,
      }),
    ).toBe('cpu is CRIT (97) ');
  });
  it('read JSON paths with indexes', () => {
    expect(valueAt({ a: { b: [{ c: 7 }] } }, 'a.b[0].c')).toBe(7);
    expect(valueAt({ a: 1 }, 'a.b.c')).toBeUndefined();
  });
});

const status: CheckStatus = {
  time: '2026-01-01T00:00:00.000Z',
  recordedAt: '2026-01-01T00:00:00.000Z',
  checkID: 'c1',
  checkName: 'cpu',
  level: 'OK',
  previousLevel: 'CRIT',
  message: 'cpu is OK',
  value: 3,
  tags: { service: 'api', env: 'prod' },
  runID: 'r1',
};

describe('rule matching', () => {
  it('matches tag rules with equal and notequal', () => {
    expect(tagRulesMatch([{ key: 'service', value: 'api', operator: 'equal' }], status.tags)).toBe(true);
    expect(tagRulesMatch([{ key: 'env', value: 'prod', operator: 'notequal' }], status.tags)).toBe(false);
    expect(tagRulesMatch([], status.tags)).toBe(true);
  });
  it('matches a level change only when previousLevel agrees', () => {
    expect(statusRulesMatch([{ currentLevel: 'OK', previousLevel: 'CRIT' }], status)).toBe(true);
    expect(statusRulesMatch([{ currentLevel: 'OK', previousLevel: 'WARN' }], status)).toBe(false);
    expect(statusRulesMatch([{ currentLevel: 'OK' }], { ...status, previousLevel: 'OK' })).toBe(true);
    expect(statusRulesMatch([{ currentLevel: 'CRIT' }], status)).toBe(false);
  });
  it("takes InfluxDB's ANY: every current level, and a change from any other level", () => {
    expect(statusRulesMatch([{ currentLevel: 'ANY' }], status)).toBe(true);
    expect(statusRulesMatch([{ currentLevel: 'OK', previousLevel: 'ANY' }], status)).toBe(true);
    expect(statusRulesMatch([{ currentLevel: 'ANY', previousLevel: 'ANY' }], status)).toBe(true);
    // No change, or no previous status at all, is not a change from anything.
    expect(
      statusRulesMatch([{ currentLevel: 'OK', previousLevel: 'ANY' }], { ...status, previousLevel: 'OK' }),
    ).toBe(false);
    expect(
      statusRulesMatch([{ currentLevel: 'ANY', previousLevel: 'ANY' }], {
        ...status,
        previousLevel: undefined,
      }),
    ).toBe(false);
    expect(statusRulesMatch([{ currentLevel: 'ANY', previousLevel: 'WARN' }], status)).toBe(false);
  });
});

const base = {
  id: 'e1',
  orgID: 'o',
  name: 'n',
  description: '',
  status: 'active' as const,
  createdAt: '',
  updatedAt: '',
  version: 1,
};
const notification = { ruleID: 'rule1', ruleName: 'recovered', status, message: 'cpu recovered' };

describe('endpoint formats', () => {
  it('sends http endpoints JSON with basic auth', () => {
    const endpoint = {
      ...base,
      type: 'http',
      url: 'https://x.io/n',
      method: 'POST',
      authMethod: 'basic',
      username: 'u',
      password: 'p',
    } as NotificationEndpoint;
    const out = formatNotification(endpoint, notification);
    expect(out.headers.authorization).toBe(`Basic ${Buffer.from('u:p').toString('base64')}`);
    expect(JSON.parse(out.body)).toMatchObject({
      ruleID: 'rule1',
      checkID: 'c1',
      level: 'OK',
      previousLevel: 'CRIT',
      message: 'cpu recovered',
    });
  });

  it('sends Slack blocks', () => {
    const out = formatNotification(
      { ...base, type: 'slack', url: 'https://hooks.slack.com/services/T/B/x' } as NotificationEndpoint,
      notification,
    );
    const body = JSON.parse(out.body);
    expect(body.text).toBe('cpu recovered');
    expect(body.blocks[0]).toEqual({ type: 'section', text: { type: 'mrkdwn', text: '*OK* cpu recovered' } });
  });

  it("posts a token Slack endpoint's message to chat.postMessage, in the rule's channel", () => {
    const out = formatNotification(
      {
        ...base,
        type: 'slack',
        url: 'https://slack.com/api/chat.postMessage',
        token: 'xoxb-t',
      } as NotificationEndpoint,
      { ...notification, channel: '#ops' },
    );
    expect(out.url).toBe('https://slack.com/api/chat.postMessage');
    expect(out.headers.authorization).toBe('Bearer xoxb-t');
    expect(JSON.parse(out.body)).toMatchObject({ channel: '#ops', text: 'cpu recovered' });
    // A webhook names its channel itself: none is sent, and no authorization.
    const hook = formatNotification(
      { ...base, type: 'slack', url: 'https://hooks.slack.com/services/T/B/x' } as NotificationEndpoint,
      { ...notification, channel: '#ops' },
    );
    expect(hook.headers.authorization).toBeUndefined();
    expect(JSON.parse(hook.body).channel).toBeUndefined();
  });

  it("sends Telegram's sendMessage to the endpoint's channel with the bot token in the path", () => {
    const out = formatNotification(
      {
        ...base,
        type: 'telegram',
        url: 'https://api.telegram.org',
        token: '123:bot-secret',
        channel: '-100200',
      } as NotificationEndpoint,
      notification,
    );
    expect(out.url).toBe('https://api.telegram.org/bot123:bot-secret/sendMessage');
    expect(JSON.parse(out.body)).toEqual({ chat_id: '-100200', text: 'cpu recovered' });
  });

  it('sends PagerDuty Events v2: OK resolves what CRIT triggered under one dedup key', () => {
    const endpoint = {
      ...base,
      type: 'pagerduty',
      routingKey: 'rk',
      url: 'https://events.pagerduty.com/v2/enqueue',
    } as NotificationEndpoint;
    const resolve = JSON.parse(formatNotification(endpoint, notification).body);
    const trigger = JSON.parse(
      formatNotification(endpoint, { ...notification, status: { ...status, level: 'CRIT' } }).body,
    );
    expect(resolve).toMatchObject({
      routing_key: 'rk',
      event_action: 'resolve',
      payload: { severity: 'info', source: 'cpu' },
    });
    expect(trigger).toMatchObject({ event_action: 'trigger', payload: { severity: 'critical' } });
    expect(trigger.dedup_key).toBe(resolve.dedup_key);
  });

  it('redacts credentials on every read', () => {
    const endpoint = {
      ...base,
      type: 'http',
      url: 'https://x.io',
      method: 'POST',
      authMethod: 'bearer',
      token: 'tok',
      headers: { 'X-Api-Key': 'k', 'X-Env': 'prod' },
    } as NotificationEndpoint;
    const shown = redactEndpoint(endpoint) as Record<string, unknown>;
    expect(shown.token).toBe('<redacted>');
    expect(shown.headers).toEqual({ 'X-Api-Key': '<redacted>', 'X-Env': 'prod' });
    expect(JSON.stringify(shown)).not.toContain('tok"');
  });

  it('seals credentials at rest, keeps them when sent back redacted, and opens them for sending', async () => {
    const box = createLocalSecretBox(generateSecretsKey());
    const plain = {
      ...base,
      type: 'slack',
      url: 'https://hooks.slack.com/services/T/B/secret',
    } as NotificationEndpoint;
    const sealed = await sealEndpoint(plain, box);
    expect(isSealed(sealed.url)).toBe(true);
    expect(JSON.stringify(sealed)).not.toContain('services/T/B/secret');
    expect(redactEndpoint(sealed).url).toBe('https://hooks.slack.com/<redacted>');

    const resent = await sealEndpoint(
      { ...sealed, url: 'https://hooks.slack.com/<redacted>' } as NotificationEndpoint,
      box,
      sealed,
    );
    expect(resent.url).toBe(sealed.url);
    const opened = await openEndpoint(resent, box);
    expect(opened.endpoint.url).toBe(plain.url);
    expect(opened.secrets).toEqual([plain.url]);

    const pd = await sealEndpoint(
      {
        ...base,
        type: 'pagerduty',
        routingKey: 'rk-123',
        url: 'https://events.pagerduty.com/v2/enqueue',
      } as NotificationEndpoint,
      box,
    );
    expect(isSealed((pd as { routingKey: string }).routingKey)).toBe(true);
    expect((await openEndpoint(pd, box)).endpoint).toMatchObject({ routingKey: 'rk-123' });
  });
});
