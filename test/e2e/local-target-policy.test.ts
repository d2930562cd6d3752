import { lookup } from 'node:dns/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalRota, startLocal } from '../../local/start';
import { apiClient, TEST_OPERATOR_TOKEN } from '../support/auth';
import { waitFor } from '../support/emulators';

/** Whether this machine's own name resolves to loopback only (it does on most dev boxes and CI images). */
async function resolvesToLoopbackOnly(name: string): Promise<boolean> {
  try {
    const addresses = await lookup(name, { all: true });
    return addresses.length > 0 && addresses.every((a) => a.address === '127.0.0.1' || a.address === '::1');
  } catch {
    return false;
  }
}
const machineName = hostname();
const machineNameIsLoopback = await resolvesToLoopbackOnly(machineName);

/**
 * Local mode keeps loopback open for the user's own services, but never its own:
 * the DynamoDB emulator (which checks no signatures), the SQS emulator and its own
 * API, in any spelling of loopback, at create time and when a run connects.
 */
describe('local mode never lets a target reach its own services', () => {
  const OP = TEST_OPERATOR_TOKEN;
  let rota: LocalRota;
  let api: ReturnType<typeof apiClient>;
  let user: Server;
  let userPort: number;
  const own: Record<string, number> = {};

  beforeAll(async () => {
    user = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const to = url.searchParams.get('to');
      if (url.pathname === '/redirect' && to) {
        res.writeHead(302, { location: to }).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'text/plain' }).end('user service');
    });
    await new Promise<void>((resolve) => user.listen(0, '127.0.0.1', resolve));
    userPort = (user.address() as AddressInfo).port;
    // The default local policy, loopback open: a shell value would replace it.
    delete process.env.ROTA_ALLOWED_TARGET_HOSTS;
    rota = await startLocal({ port: 0, workers: 2, env: { ROTA_BOOTSTRAP_TOKEN: OP } });
    api = apiClient(rota.url);
    own.dynalite = Number(new URL(rota.env.ROTA_DYNAMODB_ENDPOINT ?? '').port);
    own.fauxqs = Number(new URL(rota.env.ROTA_SQS_ENDPOINT ?? '').port);
    own.api = Number(new URL(rota.url).port);
  });
  afterAll(async () => {
    await rota?.stop();
    await new Promise((resolve) => user?.close(resolve));
  });

  const task = (url: string) => ({
    orgID: 'org-local',
    name: 'probe',
    // Active (an inactive task takes no manual run), yet due only on 29 February.
    cron: '0 0 29 2 *',
    target: { kind: 'http', url, method: 'GET' },
  });

  const runOnce = async (url: string) => {
    const created = await api(OP, 'POST', '/api/v2/tasks', task(url));
    expect(created.status, created.text).toBe(201);
    const run = await api(OP, 'POST', `/api/v2/tasks/${created.body.id}/runs`, {});
    expect(run.status, run.text).toBe(201);
    return waitFor(
      async () => {
        const current = await api(OP, 'GET', `/api/v2/tasks/${created.body.id}/runs/${run.body.id}`);
        return ['success', 'failed', 'canceled'].includes(current.body.status) ? current.body : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 100, what: `the run of ${url}` },
    );
  };

  const loopbackSpellings = [
    '127.0.0.1',
    '127.0.0.2',
    '127.255.255.254',
    '0x7f000001',
    '2130706433',
    '0.0.0.0',
    'localhost',
    'LocalHost.',
    'api.localhost',
    '[::1]',
    '[::]',
    '[::ffff:127.0.0.1]',
    '[0:0:0:0:0:ffff:7f00:1]',
  ];

  it.each(['dynalite', 'fauxqs', 'api'])(
    'refuses the %s port at create time, in every spelling of loopback',
    async (service) => {
      const port = own[service];
      for (const host of loopbackSpellings) {
        const url = `http://${host}:${port}/`;
        const created = await api(OP, 'POST', '/api/v2/tasks', task(url));
        expect(created.status, `${url}: ${created.text}`).toBe(400);
        expect(created.body.code).toBe('invalid');
        expect(created.body.message, url).toMatch(
          new RegExp(`port ${port} is one of Rota's own services; no target may reach it`),
        );
      }
      const check = await api(OP, 'POST', '/api/v2/checks', {
        orgID: 'org-local',
        name: 'c',
        type: 'threshold',
        every: '1h',
        status: 'inactive',
        probe: { url: `http://127.0.0.1:${port}/` },
        thresholds: [{ level: 'CRIT', type: 'greater', value: 1 }],
      });
      expect(check.status, check.text).toBe(400);
      const endpoint = await api(OP, 'POST', '/api/v2/notificationEndpoints', {
        orgID: 'org-local',
        name: 'e',
        type: 'http',
        url: `http://localhost:${port}/`,
      });
      expect(endpoint.status, endpoint.text).toBe(400);
      expect(endpoint.body.message).toMatch(/one of Rota's own services/);
    },
  );

  it('still runs a loopback user service (control)', async () => {
    for (const host of ['127.0.0.1', 'localhost']) {
      const run = await runOnce(`http://${host}:${userPort}/ok`);
      expect(run.status, JSON.stringify(run)).toBe('success');
    }
  });

  it('fails a run that a redirect sends to any of its own ports', async () => {
    for (const [service, port] of Object.entries(own)) {
      for (const to of [`http://localhost:${port}/`, `http://[::ffff:7f00:1]:${port}/`]) {
        const run = await runOnce(`http://127.0.0.1:${userPort}/redirect?to=${encodeURIComponent(to)}`);
        expect(run.status, `${service} via ${to}`).toBe('failed');
        expect(run.error, to).toMatch(new RegExp(`port ${port} is one of Rota's own services`));
      }
    }
  });

  it('refuses AWS targets that name a host of their own or another region, naming the field', async () => {
    const account = '123456789012';
    const cases: [Record<string, unknown>, RegExp][] = [
      [
        { kind: 'sqs', queueUrl: `http://127.0.0.1:${own.fauxqs}/000000000000/rota-runs` },
        /target\.queueUrl: must be an SQS queue URL/,
      ],
      [
        { kind: 'sqs', queueUrl: `https://attacker.example/${account}/q` },
        /target\.queueUrl: must be an SQS queue URL/,
      ],
      [
        { kind: 'sqs', queueUrl: `https://sqs.eu-west-1.amazonaws.com/${account}/q` },
        /target\.queueUrl: the queue is in eu-west-1 of partition aws; this deployment reaches only us-east-1/,
      ],
      [
        { kind: 'sns', topicArn: `arn:aws:sns:eu-west-1:${account}:t` },
        /target\.topicArn: the topic is in eu-west-1/,
      ],
      [
        { kind: 'lambda', functionName: `arn:aws-cn:lambda:us-east-1:${account}:function:f` },
        /target\.functionName: .*partition aws-cn/,
      ],
      [
        { kind: 'eventbridge', eventBusName: 'http://attacker.example/bus', source: 's', detailType: 'd' },
        /eventBusName: must be an event bus name/,
      ],
    ];
    for (const [target, message] of cases) {
      const created = await api(OP, 'POST', '/api/v2/tasks', { ...task('http://x/'), target });
      expect(created.status, created.text).toBe(400);
      expect(created.body.message).toMatch(message);
    }
    const fine = await api(OP, 'POST', '/api/v2/tasks', {
      ...task('http://x/'),
      target: { kind: 'sqs', queueUrl: `arn:aws:sqs:us-east-1:${account}:orders` },
    });
    expect(fine.status, fine.text).toBe(201);
  });

  it.runIf(machineNameIsLoopback)(
    `fails a run whose host name (${machineName}) resolves to loopback on one of its own ports`,
    async () => {
      for (const [service, port] of Object.entries(own)) {
        const run = await runOnce(`http://${machineName}:${port}/`);
        expect(run.status, service).toBe('failed');
        expect(run.error).toMatch(new RegExp(`port ${port} is one of Rota's own services`));
        // The class is told, the DNS answer is not.
        expect(run.error).not.toContain('127.0.0.1');
      }
      const control = await runOnce(`http://${machineName}:${userPort}/ok`);
      expect(control.status).toBe('success');
    },
  );
});
