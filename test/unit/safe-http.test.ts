import http from 'node:http';
import { type AddressInfo, createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type LookupAll,
  ReservedTargetError,
  resolveTarget,
  TargetBlockedError,
  type TargetPolicy,
} from '../../lib/net/address-policy';
import { safeRequest } from '../../lib/net/safe-http';
import { runHttpTarget, type TargetRunContext } from '../../lib/runners/http-target';
import type { HttpTarget } from '../../lib/runners/target';

// Every server here listens on 127.0.0.1 only: the tests never leave the machine.

interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

interface TestServer {
  port: number;
  url: string;
  received: Received[];
}

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void;

const servers: http.Server[] = [];

afterEach(async () => {
  await Promise.all(
    servers.splice(0).map(
      (server) =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        }),
    ),
  );
});

async function startServer(handler: Handler): Promise<TestServer> {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      handler(req, res, body);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { port, url: `http://127.0.0.1:${port}`, received };
}

const ok: Handler = (_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('hello');
const redirectTo =
  (location: string, status = 302): Handler =>
  (_req, res) =>
    res.writeHead(status, { location }).end();

/** Answers every name with loopback, as a resolver under an attacker's control could. */
const loopbackLookup: LookupAll = async () => [{ address: '127.0.0.1', family: 4 }];

const closed: TargetPolicy = { allowPrivate: false, allowedHosts: [] };
const loopbackOpen: TargetPolicy = { allowPrivate: false, allowedHosts: ['127.0.0.1'] };
const everythingOpen: TargetPolicy = { allowPrivate: true, allowedHosts: [] };

describe('safeRequest', () => {
  it('refuses a loopback server under the default policy without connecting', async () => {
    // Prepare
    const server = await startServer(ok);

    // Act
    const error = await safeRequest({ url: server.url, method: 'GET', timeoutMs: 2000 }, closed).catch(
      (e: unknown) => e,
    );

    // Assess
    expect(error).toBeInstanceOf(TargetBlockedError);
    expect((error as Error).message).toContain('127.0.0.1 is loopback');
    expect(server.received).toHaveLength(0);
  });

  it('reaches a loopback server whose address is allowed', async () => {
    // Prepare
    const server = await startServer(ok);

    // Act
    const response = await safeRequest(
      { url: `${server.url}/path?q=1`, method: 'GET', timeoutMs: 2000 },
      loopbackOpen,
    );

    // Assess
    expect(response).toMatchObject({
      status: 200,
      body: 'hello',
      truncated: false,
      url: `${server.url}/path?q=1`,
    });
    expect(response.headers['content-type']).toBe('text/plain');
    expect(server.received).toEqual([expect.objectContaining({ method: 'GET', url: '/path?q=1' })]);
  });

  it('refuses a redirect to the instance metadata address', async () => {
    // Prepare
    const server = await startServer(redirectTo('http://169.254.169.254/latest/meta-data/'));

    // Act
    const error = await safeRequest({ url: server.url, method: 'GET', timeoutMs: 2000 }, loopbackOpen).catch(
      (e: unknown) => e,
    );

    // Assess
    expect(error).toBeInstanceOf(TargetBlockedError);
    expect((error as Error).message).toContain('169.254.169.254 is link-local');
    expect(server.received).toHaveLength(1);
  });

  it('checks every redirect hop: an allowed host cannot bounce the request to one that is not', async () => {
    // Prepare
    const second = await startServer(ok);
    const first = await startServer(redirectTo(`${second.url}/internal`));
    const policy: TargetPolicy = { allowPrivate: false, allowedHosts: ['localhost'] };

    // Act
    const error = await safeRequest(
      { url: `http://localhost:${first.port}/`, method: 'GET', timeoutMs: 2000 },
      policy,
      { lookup: loopbackLookup },
    ).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(TargetBlockedError);
    expect(first.received).toHaveLength(1);
    expect(second.received).toHaveLength(0);
  });

  it('connects to the address it checked, not to a second DNS answer', async () => {
    // Prepare: a resolver that answers public first and loopback afterwards (DNS rebinding).
    const server = await startServer(ok);
    const answers = ['93.184.215.14', '127.0.0.1'];
    const rebinding: LookupAll = async () => [{ address: answers.shift() ?? '127.0.0.1', family: 4 }];
    const url = `http://rebind.example:${server.port}/`;
    await resolveTarget('rebind.example', closed, rebinding); // what an up-front check would have seen

    // Act
    const error = await safeRequest({ url, method: 'GET', timeoutMs: 2000 }, closed, {
      lookup: rebinding,
    }).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(TargetBlockedError);
    expect((error as Error).message).toContain('rebind.example resolves to an address that is loopback');
    expect((error as Error).message).not.toContain('127.0.0.1');
    expect(server.received).toHaveLength(0);
  });

  it('connects to the resolved address but keeps the hostname in the Host header', async () => {
    // Prepare
    const server = await startServer(ok);

    // Act
    const response = await safeRequest(
      { url: `http://app.test:${server.port}/`, method: 'GET', timeoutMs: 2000 },
      loopbackOpen,
      { lookup: loopbackLookup },
    );

    // Assess
    expect(response.status).toBe(200);
    expect(server.received[0]?.headers.host).toBe(`app.test:${server.port}`);
  });

  it('turns a 303 into a GET without body and drops Authorization across origins', async () => {
    // Prepare
    const second = await startServer(ok);
    const first = await startServer(redirectTo(`http://localhost:${second.port}/done`, 303));

    // Act
    const response = await safeRequest(
      {
        url: `${first.url}/submit`,
        method: 'POST',
        headers: { Authorization: 'Bearer secret', 'Content-Type': 'text/plain', 'X-Keep': 'yes' },
        body: 'payload',
        timeoutMs: 2000,
      },
      everythingOpen,
      { lookup: loopbackLookup },
    );

    // Assess
    expect(response).toMatchObject({ status: 200, url: `http://localhost:${second.port}/done` });
    expect(first.received[0]).toMatchObject({ method: 'POST', body: 'payload' });
    expect(first.received[0]?.headers.authorization).toBe('Bearer secret');
    expect(second.received[0]).toMatchObject({ method: 'GET', body: '' });
    expect(second.received[0]?.headers.authorization).toBeUndefined();
    expect(second.received[0]?.headers['content-type']).toBeUndefined();
    expect(second.received[0]?.headers['x-keep']).toBe('yes');
  });

  it('keeps method, body and Authorization on a same-origin 307', async () => {
    // Prepare
    const server = await startServer((req, res) =>
      req.url === '/old' ? res.writeHead(307, { location: '/new' }).end() : res.writeHead(204).end(),
    );

    // Act
    const response = await safeRequest(
      {
        url: `${server.url}/old`,
        method: 'PUT',
        headers: { authorization: 'Bearer secret' },
        body: 'data',
        timeoutMs: 2000,
      },
      loopbackOpen,
    );

    // Assess
    expect(response.status).toBe(204);
    expect(server.received.map((r) => [r.method, r.url, r.body, r.headers.authorization])).toEqual([
      ['PUT', '/old', 'data', 'Bearer secret'],
      ['PUT', '/new', 'data', 'Bearer secret'],
    ]);
  });

  it('gives up after maxRedirects', async () => {
    // Prepare
    const server = await startServer(redirectTo('/again'));

    // Act
    const error = await safeRequest(
      { url: server.url, method: 'GET', timeoutMs: 2000, maxRedirects: 2 },
      loopbackOpen,
    ).catch((e: unknown) => e);

    // Assess
    expect((error as Error).message).toBe(`request to ${server.url}/ failed: more than 2 redirects`);
    expect(server.received).toHaveLength(3);
  });

  it('times out a server that never answers', async () => {
    // Prepare
    const server = await startServer(() => {});
    const started = Date.now();

    // Act
    const error = await safeRequest(
      { url: `${server.url}/slow`, method: 'GET', timeoutMs: 200 },
      loopbackOpen,
    ).catch((e: unknown) => e);

    // Assess
    const elapsed = Date.now() - started;
    expect((error as Error).message).toBe(`request to ${server.url}/slow timed out after 200 ms`);
    expect(elapsed).toBeGreaterThanOrEqual(190);
    expect(elapsed).toBeLessThan(2000);
  });

  it('stops when the caller aborts', async () => {
    // Prepare
    const server = await startServer(() => {});
    const controller = new AbortController();
    const pending = safeRequest(
      { url: server.url, method: 'GET', timeoutMs: 10_000, signal: controller.signal },
      loopbackOpen,
    );

    // Act
    await waitUntil(() => server.received.length > 0);
    controller.abort(new Error('run cancelled'));
    const error = await pending.catch((e: unknown) => e);

    // Assess
    expect((error as Error).message).toBe(`request to ${server.url}/ was aborted: run cancelled`);
  });

  it('reads at most maxBodyBytes of the response', async () => {
    // Prepare
    const server = await startServer((req, res) =>
      res.writeHead(200).end('x'.repeat(req.url === '/big' ? 10_000 : 1000)),
    );

    // Act
    const big = await safeRequest(
      { url: `${server.url}/big`, method: 'GET', timeoutMs: 2000, maxBodyBytes: 1000 },
      loopbackOpen,
    );
    const exact = await safeRequest(
      { url: `${server.url}/exact`, method: 'GET', timeoutMs: 2000, maxBodyBytes: 1000 },
      loopbackOpen,
    );

    // Assess
    expect(big.body).toHaveLength(1000);
    expect(big.truncated).toBe(true);
    expect(exact.body).toHaveLength(1000);
    expect(exact.truncated).toBe(false);
  });

  it('reports a refused connection as a plain error', async () => {
    // Prepare: a port that was just free.
    const server = await startServer(ok);
    const url = `${server.url}/`;
    await new Promise<void>((resolve) => servers.pop()?.close(() => resolve()));

    // Act
    const error = await safeRequest({ url, method: 'GET', timeoutMs: 2000 }, loopbackOpen).catch(
      (e: unknown) => e,
    );

    // Assess
    expect(error).not.toBeInstanceOf(TargetBlockedError);
    expect((error as Error).message).toBe(`request to ${url} failed: connection refused`);
  });
});

describe('safeRequest: headers it owns, credentials it guards', () => {
  const tcpServers: TcpServer[] = [];
  afterEach(async () => {
    await Promise.all(tcpServers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
  });

  /** A raw TCP server: records every byte a connection sends until the client ends it, answers one 200. */
  async function startRecorder(): Promise<{ port: number; connections: Buffer[] }> {
    const connections: Buffer[] = [];
    const server = createTcpServer({ allowHalfOpen: true }, (socket) => {
      const chunks: Buffer[] = [];
      let answered = false;
      socket.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        if (!answered && Buffer.concat(chunks).includes('\r\n\r\n')) {
          answered = true;
          socket.write('HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
        }
      });
      socket.on('end', () => {
        connections.push(Buffer.concat(chunks));
        socket.end();
      });
      socket.on('error', () => {});
    });
    tcpServers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { port: (server.address() as AddressInfo).port, connections };
  }

  it('puts exactly one request on the wire, framed by its own Content-Length, whatever headers it is given', async () => {
    // Prepare
    const recorder = await startRecorder();
    const body = 'hello\r\n\r\nPOST /smuggled HTTP/1.1\r\nHost: internal\r\ncontent-length: 0\r\n\r\n';

    // Act
    const response = await safeRequest(
      {
        url: `http://127.0.0.1:${recorder.port}/hook`,
        method: 'POST',
        headers: {
          'Content-Length': '5',
          'Transfer-Encoding': 'chunked',
          Connection: 'keep-alive, Upgrade',
          Upgrade: 'websocket',
          TE: 'trailers',
          Trailer: 'X-Sum',
          'Keep-Alive': 'timeout=60',
          'Proxy-Connection': 'keep-alive',
          'Proxy-Authorization': 'Basic eDp5',
          Host: 'internal.example',
          Expect: '100-continue',
          'X-Kept': 'yes',
        },
        body,
        timeoutMs: 5000,
      },
      loopbackOpen,
    );
    await waitUntil(() => recorder.connections.length === 1);

    // Assess
    expect(response.status).toBe(200);
    const bytes = recorder.connections[0] ?? Buffer.alloc(0);
    const headEnd = bytes.indexOf('\r\n\r\n');
    const [requestLine, ...lines] = bytes.subarray(0, headEnd).toString('latin1').split('\r\n');
    const names = lines.map((line) => line.slice(0, line.indexOf(':')).toLowerCase());
    expect(requestLine).toBe('POST /hook HTTP/1.1');
    expect(names.sort()).toEqual(['connection', 'content-length', 'host', 'x-kept']);
    const lowered = lines.map((line) => line.toLowerCase());
    expect(lowered).toContain(`content-length: ${Buffer.byteLength(body)}`);
    expect(lowered).toContain(`host: 127.0.0.1:${recorder.port}`);
    expect(lowered).toContain('connection: close');
    expect(bytes.subarray(headEnd + 4).toString('latin1')).toBe(body);
  });

  it('drops every header the secret classifier names on a redirect to another origin', async () => {
    // Prepare: two origins on loopback, 127.0.0.1 and localhost on another port.
    const second = await startServer(ok);
    const first = await startServer(redirectTo(`http://localhost:${second.port}/landed`, 307));
    const secrets = {
      authorization: 'Bearer s1',
      cookie: 'sid=s2',
      'x-api-key': 's3',
      'api-key': 's4',
      'x-auth-token': 's5',
      'x-client-secret': 's6',
      'x-amz-signature': 's7',
      'x-db-password': 's8',
      'x-credential': 's9',
    };

    // Act
    await safeRequest(
      {
        url: `${first.url}/start`,
        method: 'GET',
        headers: { ...secrets, 'x-trace': 'kept' },
        timeoutMs: 2000,
      },
      everythingOpen,
      { lookup: loopbackLookup },
    );

    // Assess
    expect(first.received[0]?.headers).toMatchObject(secrets);
    const landed = second.received[0]?.headers ?? {};
    expect(landed['x-trace']).toBe('kept');
    for (const name of Object.keys(secrets)) expect(landed[name], name).toBeUndefined();
  });

  it('keeps secret headers on a redirect within the origin', async () => {
    // Prepare
    const server = await startServer((req, res) =>
      req.url === '/old' ? res.writeHead(307, { location: '/new' }).end() : res.writeHead(204).end(),
    );

    // Act
    await safeRequest(
      { url: `${server.url}/old`, method: 'GET', headers: { 'X-Api-Key': 'k-1' }, timeoutMs: 2000 },
      loopbackOpen,
    );

    // Assess
    expect(server.received.map((r) => r.headers['x-api-key'])).toEqual(['k-1', 'k-1']);
  });
});

describe('safeRequest: reserved ports', () => {
  it('never connects to a reserved port on this machine, directly, by name or after a redirect', async () => {
    // Prepare: the server plays one of local mode's own services.
    const own = await startServer(ok);
    const user = await startServer(redirectTo(`http://localhost:${own.port}/`));
    const policy: TargetPolicy = { ...everythingOpen, reservedPorts: [own.port] };
    const attempts = [
      { url: own.url, options: {} },
      { url: `http://[::ffff:7f00:1]:${own.port}/`, options: {} },
      { url: `http://service.test:${own.port}/`, options: { lookup: loopbackLookup } },
      { url: user.url, options: {} },
    ];

    // Act
    const errors = [];
    for (const { url, options } of attempts) {
      errors.push(
        await safeRequest({ url, method: 'GET', timeoutMs: 2000 }, policy, options).catch((e: unknown) => e),
      );
    }

    // Assess
    for (const error of errors) expect(error).toBeInstanceOf(ReservedTargetError);
    expect((errors[2] as Error).message).not.toContain('127.0.0.1');
    expect(own.received).toHaveLength(0);
    expect(user.received).toHaveLength(1);
  });
});

describe('runHttpTarget', () => {
  const run = {
    taskID: '0a1b2c3d4e5f6a7b',
    runID: '0f1e2d3c4b5a6978',
    scheduledFor: '2024-05-01T10:00:00Z',
    attempt: 1,
  };

  function context(): TargetRunContext & { lines: string[] } {
    const lines: string[] = [];
    return {
      run,
      signal: new AbortController().signal,
      timeoutMs: 2000,
      log: (line) => lines.push(line),
      lines,
    };
  }

  it('sends the run identity and a JSON body, and logs the status', async () => {
    // Prepare
    const server = await startServer((_req, res) => res.writeHead(201).end('created'));
    const target: HttpTarget = { kind: 'http', url: `${server.url}/hook`, method: 'POST', body: { n: 1 } };
    const ctx = context();

    // Act
    await runHttpTarget(target, ctx, loopbackOpen);

    // Assess
    const [request] = server.received;
    expect(request?.body).toBe('{"n":1}');
    expect(request?.headers).toMatchObject({
      'content-type': 'application/json',
      'user-agent': 'rota',
      'x-rota-task-id': run.taskID,
      'x-rota-run-id': run.runID,
      'x-rota-scheduled-for': run.scheduledFor,
    });
    expect(ctx.lines[0]).toBe(`HTTP POST ${server.url}/hook: sending request`);
    expect(ctx.lines[1]).toMatch(new RegExp(`^HTTP POST ${server.url}/hook -> 201 in \\d+ ms$`));
    expect(ctx.lines[2]).toBe('response body: created');
  });

  it('logs each redirect as it follows it, before the next hop answers', async () => {
    // Prepare
    let linesWhenHopAnswered: string[] = [];
    const ctx = context();
    const last = await startServer((_req, res) => {
      linesWhenHopAnswered = [...ctx.lines];
      res.writeHead(200).end();
    });
    const first = await startServer(redirectTo(`${last.url}/final`, 307));
    const target: HttpTarget = { kind: 'http', url: `${first.url}/start`, method: 'GET' };

    // Act
    await runHttpTarget(target, ctx, loopbackOpen);

    // Assess
    const redirect = new RegExp(
      `^HTTP GET ${first.url}/start: 307 after \\d+ ms, redirected to ${last.url}/final$`,
    );
    expect(linesWhenHopAnswered).toEqual([
      `HTTP GET ${first.url}/start: sending request`,
      expect.stringMatching(redirect),
    ]);
    expect(ctx.lines[2]).toMatch(/ -> 200 in \d+ ms$/);
  });

  it('sends a string body as is, with the content type the target set', async () => {
    // Prepare
    const server = await startServer(ok);
    const target: HttpTarget = {
      kind: 'http',
      url: server.url,
      method: 'PUT',
      headers: { 'Content-Type': 'text/csv' },
      body: 'a,b\n1,2',
    };

    // Act
    await runHttpTarget(target, context(), loopbackOpen);

    // Assess
    expect(server.received[0]).toMatchObject({ method: 'PUT', body: 'a,b\n1,2' });
    expect(server.received[0]?.headers['content-type']).toBe('text/csv');
  });

  it('fails on a non-2xx answer and logs the status and the start of the body', async () => {
    // Prepare
    const server = await startServer((_req, res) => res.writeHead(500).end('e'.repeat(5000)));
    const target: HttpTarget = { kind: 'http', url: server.url, method: 'GET' };
    const ctx = context();

    // Act
    const error = await runHttpTarget(target, ctx, loopbackOpen).catch((e: unknown) => e);

    // Assess
    expect((error as Error).message).toBe('target responded 500');
    expect(ctx.lines[1]).toMatch(/ -> 500 in \d+ ms$/);
    expect(ctx.lines[2]).toBe(`response body: ${'e'.repeat(1024)} … (truncated)`);
  });

  it('never logs credentials from headers or the URL', async () => {
    // Prepare
    const server = await startServer((_req, res) => res.writeHead(403).end('denied'));
    const target: HttpTarget = {
      kind: 'http',
      url: `http://robot:url-password@127.0.0.1:${server.port}/hook`,
      method: 'POST',
      headers: { Authorization: 'Bearer header-token', 'X-Api-Key': 'key-value' },
    };
    const ctx = context();

    // Act
    await runHttpTarget(target, ctx, loopbackOpen).catch(() => undefined);

    // Assess
    expect(server.received[0]?.headers.authorization).toBe('Bearer header-token');
    expect(ctx.lines.length).toBeGreaterThan(0);
    const logged = ctx.lines.join('\n');
    for (const secret of ['header-token', 'key-value', 'url-password']) expect(logged).not.toContain(secret);
  });

  it('logs and rethrows a refused target', async () => {
    // Prepare
    const server = await startServer(ok);
    const ctx = context();

    // Act
    const error = await runHttpTarget({ kind: 'http', url: server.url, method: 'GET' }, ctx, closed).catch(
      (e: unknown) => e,
    );

    // Assess
    expect(error).toBeInstanceOf(TargetBlockedError);
    expect(ctx.lines[1]).toMatch(
      /^HTTP GET http:\/\/127\.0\.0\.1:\d+\/ failed after \d+ ms: target address 127\.0\.0\.1/,
    );
    expect(server.received).toHaveLength(0);
  });
});

async function waitUntil(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
