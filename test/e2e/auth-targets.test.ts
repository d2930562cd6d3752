import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalRota, startLocal } from '../../local/start';
import { apiClient, TEST_OPERATOR_TOKEN } from '../support/auth';
import { waitFor } from '../support/emulators';

/**
 * The SSRF policy through the API and the executor, with AWS's defaults: nothing but
 * public addresses, except the one loopback host the test's own server listens on
 * (so a run can start at all and be redirected from there).
 */
describe('target address policy in local mode', () => {
  const OP = TEST_OPERATOR_TOKEN;
  let rota: LocalRota;
  let api: ReturnType<typeof apiClient>;
  let server: Server;
  let port: number;
  const hits: string[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      hits.push(url.pathname);
      const to = url.searchParams.get('to');
      if (url.pathname === '/redirect' && to) {
        res.writeHead(302, { location: to });
        res.end();
        return;
      }
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    rota = await startLocal({
      port: 0,
      workers: 4,
      env: {
        ROTA_BOOTSTRAP_TOKEN: OP,
        ROTA_ALLOWED_TARGET_HOSTS: '127.0.0.1',
        ROTA_ALLOW_PRIVATE_TARGETS: 'false',
      },
    });
    api = apiClient(rota.url);
  });
  afterAll(async () => {
    await rota?.stop();
    await new Promise((resolve) => server?.close(resolve));
  });

  const task = (url: string) => ({
    orgID: 'org-ssrf',
    name: 'probe',
    // Active (an inactive task takes no manual run), yet due only on 29 February.
    cron: '0 0 29 2 *',
    target: { kind: 'http', url, method: 'GET' },
  });

  // Each forbidden class, in the spellings an attacker would try.
  const blocked: [string, string][] = [
    ['http://localhost:8080/', 'loopback'],
    ['http://metadata.localhost/', 'loopback'],
    ['http://127.0.0.2/', 'loopback'],
    ['http://0x7f000002/', 'loopback'],
    ['http://[::1]/', 'loopback'],
    ['http://[::ffff:7f00:2]/', 'loopback'],
    ['http://0.0.0.0/', 'unspecified'],
    ['http://[::]/', 'unspecified'],
    ['http://10.0.0.1/', 'private'],
    ['http://172.16.5.4/', 'private'],
    ['http://192.168.1.1/', 'private'],
    ['http://100.64.0.1/', 'private'],
    ['http://[fd00:ec2::254]/latest/meta-data/', 'unique-local'],
    ['http://[fc00::1]/', 'unique-local'],
    ['http://169.254.169.254/latest/meta-data/iam/security-credentials/', 'link-local'],
    ['http://[fe80::1]/', 'link-local'],
    ['http://[::ffff:169.254.169.254]/', 'link-local'],
    ['http://[::ffff:a9fe:a9fe]/', 'link-local'],
    ['http://[64:ff9b::a9fe:a9fe]/', 'link-local'],
  ];

  it.each(blocked)(
    'refuses %s (%s) at create and update time with 400 invalid',
    async (url, addressClass) => {
      const created = await api(OP, 'POST', '/api/v2/tasks', task(url));
      expect(created.status, created.text).toBe(400);
      expect(created.body.code).toBe('invalid');
      expect(created.body.message).toMatch(new RegExp(`is ${addressClass}; set allowPrivateTargets`));

      const ok = await api(OP, 'POST', '/api/v2/tasks', task(`http://127.0.0.1:${port}/ok`));
      expect(ok.status).toBe(201);
      const patched = await api(OP, 'PATCH', `/api/v2/tasks/${ok.body.id}`, {
        target: { kind: 'http', url, method: 'GET' },
      });
      expect(patched.status).toBe(400);
      expect((await api(OP, 'GET', `/api/v2/tasks/${ok.body.id}`)).body.target.url).toBe(
        `http://127.0.0.1:${port}/ok`,
      );
      await api(OP, 'DELETE', `/api/v2/tasks/${ok.body.id}`);
    },
  );

  const runOnce = async (url: string) => {
    const created = await api(OP, 'POST', '/api/v2/tasks', task(url));
    expect(created.status, created.text).toBe(201);
    const run = await api(OP, 'POST', `/api/v2/tasks/${created.body.id}/runs`, {});
    expect(run.status).toBe(201);
    return waitFor(
      async () => {
        const current = await api(OP, 'GET', `/api/v2/tasks/${created.body.id}/runs/${run.body.id}`);
        return ['success', 'failed', 'canceled'].includes(current.body.status) ? current.body : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 100, what: `the run of ${url}` },
    );
  };

  it('runs a target the operator allowed (control)', async () => {
    const run = await runOnce(`http://127.0.0.1:${port}/ok`);
    expect(run.status).toBe('success');
  });

  // Redirected from the allowed host: the run-time check is the only one left to catch these.
  const atRunTime = (): [string, string][] => [
    ['http://169.254.169.254/latest/meta-data/', 'link-local'],
    ['http://[fd00:ec2::254]/latest/meta-data/', 'unique-local'],
    ['http://10.1.2.3/', 'private'],
    ['http://192.168.0.1/', 'private'],
    ['http://0.0.0.0/', 'unspecified'],
    ['http://[::ffff:169.254.169.254]/', 'link-local'],
    [`http://localhost:${port}/ok-via-localhost`, 'loopback'],
    [`http://[::1]:${port}/ok-via-ipv6`, 'loopback'],
    [`http://127.0.0.2:${port}/ok-via-127-0-0-2`, 'loopback'],
  ];

  it('fails the run with a clear log line when a redirect leads to any forbidden class', async () => {
    for (const [to, addressClass] of atRunTime()) {
      const run = await runOnce(`http://127.0.0.1:${port}/redirect?to=${encodeURIComponent(to)}`);
      expect(run.status, to).toBe('failed');
      expect(run.error, to).toMatch(
        new RegExp(`is ${addressClass}; set allowPrivateTargets or allowedTargetHosts`),
      );
      const logs = run.log.map((entry: { message: string }) => entry.message).join('\n');
      expect(logs, to).toMatch(/HTTP GET http:\/\/127\.0\.0\.1:\d+\/redirect.* failed after \d+ ms: .*is /);
    }
    // The loopback servers behind the redirects were never reached.
    expect(hits.filter((path) => path.startsWith('/ok-via'))).toEqual([]);
  });
});
