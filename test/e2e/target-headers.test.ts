import { createServer as createHttpServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { type AddressInfo, createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalRota, startLocal } from '../../local/start';
import { apiClient, TEST_OPERATOR_TOKEN } from '../support/auth';
import { dynamoClient, waitFor } from '../support/emulators';

/**
 * Headers a task, probe or endpoint may set: never framing or hop-by-hop ones (they
 * would sit beside Rota's own framing and let a request smuggle a second one), never
 * control characters, never a credential too short to scrub from logs; and the
 * credentials a target does hold never follow a redirect to another origin.
 */
describe('target headers', () => {
  const OP = TEST_OPERATOR_TOKEN;
  let rota: LocalRota;
  let api: ReturnType<typeof apiClient>;

  /** A raw TCP server that records every byte of each connection and answers one 200. */
  let raw: TcpServer;
  let rawPort: number;
  const connections: Buffer[] = [];

  /** Two HTTP origins on loopback; the first redirects to the second. */
  let first: Server;
  let second: Server;
  let firstPort: number;
  let secondPort: number;
  const atSecond: IncomingHttpHeaders[] = [];

  beforeAll(async () => {
    raw = createTcpServer({ allowHalfOpen: true }, (socket) => {
      const chunks: Buffer[] = [];
      let answered = false;
      socket.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        if (!answered && Buffer.concat(chunks).includes('\r\n\r\n')) {
          answered = true;
          socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok');
        }
      });
      // Recorded when the client is done sending: every byte it wrote, smuggled or not.
      socket.on('end', () => {
        connections.push(Buffer.concat(chunks));
        socket.end();
      });
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => raw.listen(0, '127.0.0.1', resolve));
    rawPort = (raw.address() as AddressInfo).port;

    second = createHttpServer((req, res) => {
      atSecond.push(req.headers);
      res.writeHead(200).end('second');
    });
    await new Promise<void>((resolve) => second.listen(0, '127.0.0.1', resolve));
    secondPort = (second.address() as AddressInfo).port;
    first = createHttpServer((_req, res) =>
      // Same machine, another origin: `localhost` and another port.
      res.writeHead(307, { location: `http://localhost:${secondPort}/landed` }).end(),
    );
    await new Promise<void>((resolve) => first.listen(0, '127.0.0.1', resolve));
    firstPort = (first.address() as AddressInfo).port;

    // Local mode's default policy (loopback open, localhost included): a shell value would replace it.
    delete process.env.ROTA_ALLOWED_TARGET_HOSTS;
    rota = await startLocal({ port: 0, workers: 2, env: { ROTA_BOOTSTRAP_TOKEN: OP } });
    api = apiClient(rota.url);
  });
  afterAll(async () => {
    await rota?.stop();
    await Promise.all(
      [raw, first, second].map((s) => new Promise((resolve) => (s ? s.close(resolve) : resolve(undefined)))),
    );
  });

  const task = (headers: Record<string, string>, url = `http://127.0.0.1:${rawPort}/hook`) => ({
    orgID: 'org-headers',
    name: 'h',
    // Active (an inactive task takes no manual run), yet due only on 29 February.
    cron: '0 0 29 2 *',
    target: { kind: 'http', url, method: 'POST', headers, body: 'hello' },
  });
  const check = (headers: Record<string, string>) => ({
    orgID: 'org-headers',
    name: 'c',
    type: 'threshold',
    every: '1h',
    status: 'inactive',
    probe: { url: `http://127.0.0.1:${rawPort}/m`, headers },
    thresholds: [{ level: 'CRIT', type: 'greater', value: 1 }],
  });
  const endpoint = (headers: Record<string, string>) => ({
    orgID: 'org-headers',
    name: 'e',
    type: 'http',
    url: `http://127.0.0.1:${rawPort}/n`,
    headers,
  });

  const runAndWait = async (taskID: string) => {
    const run = await api(OP, 'POST', `/api/v2/tasks/${taskID}/runs`, {});
    expect(run.status, run.text).toBe(201);
    return waitFor(
      async () => {
        const current = await api(OP, 'GET', `/api/v2/tasks/${taskID}/runs/${run.body.id}`);
        return ['success', 'failed'].includes(current.body.status) ? current.body : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 100, what: 'the run' },
    );
  };

  const framing = [
    ['Content-Length', '1'],
    ['Transfer-Encoding', 'chunked'],
    ['Connection', 'keep-alive, Upgrade'],
    ['Upgrade', 'websocket'],
    ['TE', 'trailers'],
    ['Trailer', 'X-Checksum'],
    ['Keep-Alive', 'timeout=5'],
    ['Proxy-Connection', 'keep-alive'],
    ['Proxy-Authorization', 'Basic cm9ib3Q6cGFzc3dvcmQ='],
    ['Host', 'internal.example'],
    ['Expect', '100-continue'],
  ] as const;

  it.each(framing)(
    'refuses %s in a task target, a check probe and an endpoint with 400',
    async (name, value) => {
      const created = await api(OP, 'POST', '/api/v2/tasks', task({ [name]: value }));
      expect(created.status, created.text).toBe(400);
      expect(created.body.code).toBe('invalid');
      expect(created.body.message).toContain(`target.headers.${name}: `);
      expect(created.body.message).toMatch(/set by Rota's HTTP client/);

      const ok = await api(OP, 'POST', '/api/v2/tasks', task({ 'X-Fine': 'yes' }));
      expect(ok.status, ok.text).toBe(201);
      const patched = await api(OP, 'PATCH', `/api/v2/tasks/${ok.body.id}`, task({ [name]: value }));
      expect(patched.status, patched.text).toBe(400);
      expect(patched.body.message).toContain(`target.headers.${name}: `);

      const probe = await api(OP, 'POST', '/api/v2/checks', check({ [name.toLowerCase()]: value }));
      expect(probe.status, probe.text).toBe(400);
      expect(probe.body.message).toContain(`probe.headers.${name.toLowerCase()}: `);

      const sink = await api(OP, 'POST', '/api/v2/notificationEndpoints', endpoint({ [name]: value }));
      expect(sink.status, sink.text).toBe(400);
      expect(sink.body.message).toContain(`headers.${name}: `);
    },
  );

  it.each([
    ['CR LF', 'a\r\nX-Injected: 1'],
    ['LF', 'a\nb'],
    ['NUL', 'a\u0000b'],
    ['DEL', 'a\u007fb'],
    ['a character outside Latin-1', 'caf\u00e9 \u2603'],
  ])('refuses %s in a header value at create time', async (_what, value) => {
    const created = await api(OP, 'POST', '/api/v2/tasks', task({ 'X-Note': value }));
    expect(created.status, created.text).toBe(400);
    expect(created.body.message).toContain('target.headers.X-Note: ');
    expect(created.body.message).toMatch(/control character|outside Latin-1/);

    const probe = await api(OP, 'POST', '/api/v2/checks', check({ 'X-Note': value }));
    expect(probe.status, probe.text).toBe(400);
    const sink = await api(OP, 'POST', '/api/v2/notificationEndpoints', endpoint({ 'X-Note': value }));
    expect(sink.status, sink.text).toBe(400);
  });

  it('refuses a credential shorter than 4 characters, which logs could not be scrubbed of', async () => {
    const short: Record<string, string>[] = [
      { 'X-Api-Key': 'abc' },
      { Authorization: 'Bearer xy' },
      { Authorization: '' },
    ];
    for (const headers of short) {
      const created = await api(OP, 'POST', '/api/v2/tasks', task(headers));
      expect(created.status, created.text).toBe(400);
      expect(created.body.message).toMatch(/at least 4 characters/);
    }
    const basic = await api(OP, 'POST', '/api/v2/notificationEndpoints', {
      ...endpoint({}),
      authMethod: 'basic',
      username: 'robot',
      password: 'pw',
    });
    expect(basic.status, basic.text).toBe(400);
    expect(basic.body.message).toMatch(/password: .*at least 4 characters/);
    const bearer = await api(OP, 'POST', '/api/v2/notificationEndpoints', {
      ...endpoint({}),
      authMethod: 'bearer',
      token: 'tk',
    });
    expect(bearer.status, bearer.text).toBe(400);
    // Long enough: accepted.
    const fine = await api(OP, 'POST', '/api/v2/tasks', task({ 'X-Api-Key': 'abcd' }));
    expect(fine.status, fine.text).toBe(201);
  });

  it('sends exactly one well-formed request even when framing headers were stored earlier', async () => {
    // Prepare: a task stored before the create-time check existed, planted in the table.
    const created = await api(OP, 'POST', '/api/v2/tasks', task({ 'X-Fine': 'yes' }));
    expect(created.status, created.text).toBe(201);
    const smuggled = 'GET /smuggled HTTP/1.1\r\nHost: internal.example\r\n\r\n';
    const client = dynamoClient(rota.env.ROTA_DYNAMODB_ENDPOINT ?? '');
    await client.send(
      new UpdateItemCommand({
        TableName: rota.env.ROTA_TABLE_NAME,
        Key: marshall({ PK: `TASK#${created.body.id}`, SK: 'TASK' }),
        UpdateExpression: 'SET #m.#t.#h = :h, #m.#t.#b = :b',
        ExpressionAttributeNames: { '#m': 'metadata', '#t': 'target', '#h': 'headers', '#b': 'body' },
        ExpressionAttributeValues: marshall({
          ':h': {
            'Content-Length': '5',
            'Transfer-Encoding': 'chunked',
            Connection: 'keep-alive',
            Host: 'internal.example',
            'Keep-Alive': 'timeout=60',
            Upgrade: 'h2c',
            TE: 'trailers',
            'X-Fine': 'yes',
          },
          ':b': `hello${smuggled}`,
        }),
      }),
    );
    client.destroy();
    const before = connections.length;

    // Act
    const run = await runAndWait(created.body.id);

    // Assess
    expect(run.status, JSON.stringify(run)).toBe('success');
    await waitFor(() => (connections.length > before ? true : undefined), { what: 'the connection to end' });
    const bytes = connections.at(-1) ?? Buffer.alloc(0);
    const headEnd = bytes.indexOf('\r\n\r\n');
    expect(headEnd).toBeGreaterThan(0);
    const [requestLine, ...headerLines] = bytes.subarray(0, headEnd).toString('latin1').split('\r\n');
    expect(requestLine).toBe('POST /hook HTTP/1.1');
    const headers = headerLines.map((line) => {
      const colon = line.indexOf(':');
      return [line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim()] as const;
    });
    const named = (name: string) => headers.filter(([n]) => n === name).map(([, v]) => v);
    const body = `hello${smuggled}`;
    expect(named('content-length')).toEqual([String(Buffer.byteLength(body))]);
    expect(named('transfer-encoding')).toEqual([]);
    expect(named('host')).toEqual([`127.0.0.1:${rawPort}`]);
    expect(named('keep-alive')).toEqual([]);
    expect(named('upgrade')).toEqual([]);
    expect(named('te')).toEqual([]);
    expect(named('x-fine')).toEqual(['yes']);
    // The body is exactly Content-Length bytes, and nothing follows it: one request, not two.
    expect(bytes.subarray(headEnd + 4).toString('latin1')).toBe(body);
  });

  it('drops every secret header on a redirect to another origin, and keeps the others', async () => {
    const secrets = {
      Authorization: 'Bearer redirect-secret-1',
      'X-Api-Key': 'redirect-secret-2',
      'X-Auth-Token': 'redirect-secret-3',
      'Api-Key': 'redirect-secret-4',
      'X-Client-Secret': 'redirect-secret-5',
      'X-Signature': 'redirect-secret-6',
      Cookie: 'session=redirect-secret-7',
    };
    const created = await api(
      OP,
      'POST',
      '/api/v2/tasks',
      task({ ...secrets, 'X-Trace': 'visible' }, `http://127.0.0.1:${firstPort}/start`),
    );
    expect(created.status, created.text).toBe(201);

    const run = await runAndWait(created.body.id);

    expect(run.status, JSON.stringify(run)).toBe('success');
    const landed = atSecond.at(-1) ?? {};
    expect(landed['x-trace']).toBe('visible');
    for (const name of Object.keys(secrets)) expect(landed[name.toLowerCase()], name).toBeUndefined();
    expect(JSON.stringify(landed)).not.toMatch(/redirect-secret/);
  });
});
