import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalRota, startLocal } from '../../local/start';
import { waitFor } from '../support/emulators';

/**
 * A slow loopback target: `/slow` answers a redirect to `/slower` after 2 s, which
 * answers 200 after 4 more. It notes when it sent the redirect.
 */
function startSlowTarget() {
  const redirectsSent: number[] = [];
  const server: Server = createServer((req, res) => {
    const timer = req.url?.startsWith('/slower')
      ? setTimeout(() => res.writeHead(200).end('done'), 4_000)
      : setTimeout(() => {
          redirectsSent.push(Date.now());
          res.writeHead(302, { location: '/slower' }).end();
        }, 2_000);
    req.on('close', () => {
      if (!res.writableEnded) clearTimeout(timer);
    });
  });
  return new Promise<{ url: string; redirectsSent: number[]; close: () => Promise<void> }>((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}`,
        redirectsSent,
        close: () =>
          new Promise((r) => {
            server.closeAllConnections();
            server.close(() => r());
          }),
      });
    }),
  );
}

interface LogEvents {
  events: { runID: string; time: string; message: string }[];
}

describe('live logs in local mode, against a slow loopback target', () => {
  let rota: LocalRota;
  let target: Awaited<ReturnType<typeof startSlowTarget>>;
  const headers = { authorization: 'Token test-operator-token', 'content-type': 'application/json' };
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${rota.url}/api/v2${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };

  beforeAll(async () => {
    target = await startSlowTarget();
    rota = await startLocal({ port: 0, env: { ROTA_BOOTSTRAP_TOKEN: 'test-operator-token' } });
  });
  afterAll(async () => {
    await rota?.stop();
    await target?.close();
  });

  it('a started run shows its first line, and a later one within about 2 s of its writing', async () => {
    const created = await api('POST', '/tasks', {
      orgID: 'live-logs-org',
      name: 'slow call',
      every: '1h',
      target: { kind: 'http', url: `${target.url}/slow`, method: 'GET' },
    });
    expect(created.status).toBe(201);
    const taskID = created.body.id as string;
    const queued = await api('POST', `/tasks/${taskID}/runs`, {});
    expect(queued.status).toBe(201);
    const runID = queued.body.id as string;
    const logsPath = `/tasks/${taskID}/runs/${runID}/logs`;
    const messages = async () =>
      ((await api('GET', logsPath)).body as LogEvents).events.map((e) => e.message);
    const statusOf = async () => (await api('GET', `/tasks/${taskID}/runs/${runID}`)).body.status as string;
    const seen = (pattern: RegExp, what: string) =>
      waitFor(
        async () => {
          const shown = await messages();
          return shown.some((m) => pattern.test(m)) ? { at: Date.now(), shown } : undefined;
        },
        { timeoutMs: 10_000, intervalMs: 100, what },
      );

    const first = await seen(/GET .*\/slow: sending request$/, 'the first line');
    expect(await statusOf()).toBe('started');
    expect(first.shown[0]).toMatch(/^run started/);

    const redirected = await seen(/: 302 after \d+ ms, redirected to .*\/slower$/, 'the redirect line');
    const [sentAt] = target.redirectsSent;
    expect(sentAt).toBeDefined();
    expect(redirected.at - (sentAt ?? 0)).toBeLessThan(2_600);
    // The run's own read shows the same lines while it is still going.
    const run = (await api('GET', `/tasks/${taskID}/runs/${runID}`)).body;
    expect(run.status).toBe('started');
    expect(run.log.map((l: { message: string }) => l.message)).toEqual(
      expect.arrayContaining([expect.stringMatching(/redirected to/)]),
    );

    const done = await waitFor(async () => ((await statusOf()) === 'success' ? messages() : undefined), {
      timeoutMs: 15_000,
      intervalMs: 200,
      what: 'the run to succeed',
    });
    // The final log holds each line once.
    expect(done).toEqual([
      expect.stringMatching(/^run started/),
      expect.stringMatching(/: sending request$/),
      expect.stringMatching(/: 302 after \d+ ms, redirected to /),
      expect.stringMatching(/-> 200 in \d+ ms$/),
      'response body: done',
      'run succeeded',
    ]);
  });
});
