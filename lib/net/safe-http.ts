import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { isSecretHeader } from '../auth/secrets';
import { InvalidError, RotaError } from '../errors';
import { type LookupAll, portOf, resolveTarget, type TargetPolicy } from './address-policy';
import { withoutClientOwnedHeaders } from './headers';

export interface SafeRequest {
  url: string;
  method: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  signal?: AbortSignal;
  /** Deadline for the whole exchange: every redirect hop and the response body. */
  timeoutMs: number;
  /** @default 5 */
  maxRedirects?: number;
  /** At most this many bytes of the response body are read; the rest is dropped and `truncated` set. @default 65536 */
  maxBodyBytes?: number;
  /** Told of each redirect followed, before the next hop is sent (a run logs it as it happens). */
  onRedirect?: (redirect: { status: number; to: string }) => void;
}

export interface SafeResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  truncated: boolean;
  /** The URL that answered, after redirects. */
  url: string;
}

export interface SafeRequestOptions {
  /** Replaces DNS; tests use it to play a resolver that answers differently each time. */
  lookup?: LookupAll;
}

const DEFAULT_MAX_REDIRECTS = 5;
const DEFAULT_MAX_BODY_BYTES = 64 * 1024;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const BODY_HEADERS = ['content-type', 'content-encoding'];

/**
 * An HTTP client for user-supplied URLs. The target policy is enforced when
 * each connection is made, on the address actually connected to (DNS answers
 * checked earlier could have changed since), and again on every redirect hop.
 * Framing and hop-by-hop headers are the client's own: any the caller gives are
 * dropped, so a request is always exactly one well-formed request. Credential
 * headers (as `isSecretHeader` classifies them) never follow a redirect to another
 * origin.
 */
export async function safeRequest(
  req: SafeRequest,
  policy: TargetPolicy,
  options: SafeRequestOptions = {},
): Promise<SafeResponse> {
  let url = parseHttpUrl(req.url, 'target URL');
  const shown = redactUrl(url);
  const maxRedirects = req.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
  const maxBodyBytes = req.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;

  const deadline = new AbortController();
  const timer = setTimeout(
    () => deadline.abort(new Error(`request to ${shown} timed out after ${req.timeoutMs} ms`)),
    req.timeoutMs,
  );
  const onCallerAbort = () => deadline.abort(abortedError(shown, req.signal?.reason));
  if (req.signal?.aborted) onCallerAbort();
  else req.signal?.addEventListener('abort', onCallerAbort, { once: true });

  let method = req.method.toUpperCase();
  let headers = withoutClientOwnedHeaders(lowerCaseKeys(req.headers ?? {}));
  let body = req.body;
  try {
    for (let hop = 0; ; hop++) {
      const response = await exchange(
        { url, method, headers, body, maxBodyBytes, signal: deadline.signal, shown },
        policy,
        options.lookup,
      );
      const location = response.headers.location;
      if (!REDIRECT_STATUSES.has(response.status) || location === undefined) {
        return { ...response, url: url.href };
      }
      if (hop >= maxRedirects)
        throw new Error(`request to ${shown} failed: more than ${maxRedirects} redirects`);

      const next = parseHttpUrl(new URL(location, url).href, 'redirect location');
      // As fetch does: 303 turns anything but HEAD into GET, and 301/302 turn POST into GET.
      const toGet =
        (response.status === 303 && method !== 'HEAD') ||
        ((response.status === 301 || response.status === 302) && method === 'POST');
      if (toGet) {
        method = 'GET';
        body = undefined;
        headers = without(headers, BODY_HEADERS);
      }
      if (next.origin !== url.origin) {
        headers = Object.fromEntries(Object.entries(headers).filter(([name]) => !isSecretHeader(name)));
      }
      req.onRedirect?.({ status: response.status, to: redactUrl(next) });
      url = next;
    }
  } finally {
    clearTimeout(timer);
    req.signal?.removeEventListener('abort', onCallerAbort);
  }
}

/** The URL without user info, fit for logs and error messages. */
export function redactUrl(url: string | URL): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return '(invalid URL)';
  }
  parsed.username = '';
  parsed.password = '';
  return parsed.href;
}

interface Exchange {
  url: URL;
  method: string;
  headers: Record<string, string>;
  body: string | Buffer | undefined;
  maxBodyBytes: number;
  signal: AbortSignal;
  /** The caller's URL, redacted, for error messages. */
  shown: string;
}

type ExchangeResponse = Omit<SafeResponse, 'url'>;

async function exchange(
  ex: Exchange,
  policy: TargetPolicy,
  lookup: LookupAll | undefined,
): Promise<ExchangeResponse> {
  ex.signal.throwIfAborted();
  const hostname = ex.url.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = portOf(ex.url);
  // Node connects to an IP literal without calling `lookup`, so literals are checked here.
  if (isIP(hostname)) await resolveTarget(hostname, policy, lookup, port);
  return send(ex, requestOptions(ex, hostname, pinnedLookup(policy, lookup, port)));
}

function requestOptions(ex: Exchange, hostname: string, lookup: LookupFunction): https.RequestOptions {
  const headers = { ...ex.headers };
  // Rota frames every body itself, by length: never chunked, never the caller's count.
  if (ex.body !== undefined) headers['content-length'] = String(Buffer.byteLength(ex.body));
  const secure = ex.url.protocol === 'https:';
  return {
    protocol: ex.url.protocol,
    hostname,
    port: ex.url.port || undefined,
    path: `${ex.url.pathname}${ex.url.search}`,
    method: ex.method,
    headers,
    // A fresh connection per hop: a pooled socket would skip the check in `lookup`.
    agent: false,
    lookup,
    ...(ex.url.username || ex.url.password
      ? { auth: `${decodeURIComponent(ex.url.username)}:${decodeURIComponent(ex.url.password)}` }
      : {}),
    ...(secure && !isIP(hostname) ? { servername: hostname } : {}),
  };
}

/** One request and its response, settled once: by the response, an error, or the signal. */
function send(ex: Exchange, options: https.RequestOptions): Promise<ExchangeResponse> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      ex.signal.removeEventListener('abort', onAbort);
      outcome();
    };
    const fail = (error: unknown) => settle(() => reject(describeError(error, ex)));

    const request = (ex.url.protocol === 'https:' ? https : http).request(options);
    const onAbort = () => {
      fail(ex.signal.reason);
      request.destroy();
    };
    ex.signal.addEventListener('abort', onAbort, { once: true });
    // These listeners stay attached after settling, so a late socket error is never unhandled.
    request.on('error', fail);
    request.on('response', (res) =>
      readResponse(res, ex.maxBodyBytes, {
        settled: () => settled,
        done: (response) => settle(() => resolve(response)),
        fail,
      }),
    );
    request.end(ex.body);
  });
}

interface ResponseSink {
  /** True once the exchange has settled: later data is dropped. */
  settled(): boolean;
  done(response: ExchangeResponse): void;
  fail(error: unknown): void;
}

/** Reads the body up to `maxBodyBytes`; a longer one is cut there, marked truncated, and its socket closed. */
function readResponse(res: http.IncomingMessage, maxBodyBytes: number, sink: ResponseSink): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let truncated = false;
  const finish = () =>
    sink.done({
      status: res.statusCode ?? 0,
      headers: flattenHeaders(res.headers),
      body: Buffer.concat(chunks).toString('utf8'),
      truncated,
    });
  res.on('data', (chunk: Buffer) => {
    if (sink.settled()) return;
    const room = maxBodyBytes - size;
    if (chunk.length > room) {
      chunks.push(chunk.subarray(0, room));
      size += room;
      truncated = true;
      finish();
      res.destroy();
      return;
    }
    chunks.push(chunk);
    size += chunk.length;
  });
  res.on('end', finish);
  res.on('error', sink.fail);
  res.on('close', () => {
    if (!res.complete) sink.fail(new Error('connection closed before the response was complete'));
  });
}

/**
 * The `lookup` handed to node: checks every address the host resolves to and
 * hands node only the first, so the address connected to is one that passed.
 */
function pinnedLookup(policy: TargetPolicy, lookup: LookupAll | undefined, port: number): LookupFunction {
  return (hostname, options, callback) => {
    resolveTarget(hostname, policy, lookup, port).then(
      ({ address, family }) => {
        if (options.all) callback(null, [{ address, family }]);
        else callback(null, address, family);
      },
      (error: Error) => callback(error, '', 0),
    );
  };
}

const NETWORK_ERRORS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connection timed out',
  EPIPE: 'connection closed while sending',
  CERT_HAS_EXPIRED: 'TLS certificate has expired',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'TLS certificate is self-signed',
  ERR_TLS_CERT_ALTNAME_INVALID: 'TLS certificate does not match the host',
};

function describeError(error: unknown, ex: Exchange): Error {
  // Policy refusals and the deadline's own errors already say what happened.
  if (error instanceof RotaError || error === ex.signal.reason) return error as Error;
  const { code, address } = error as { code?: unknown; address?: unknown };
  const known = typeof code === 'string' ? NETWORK_ERRORS[code] : undefined;
  // A socket error's own message names the address connected to: what DNS answered.
  const reason =
    known ??
    (typeof code === 'string' && address !== undefined
      ? `network error ${code}`
      : error instanceof Error
        ? error.message
        : String(error));
  const hop = redactUrl(ex.url);
  const where = hop === ex.shown ? ex.shown : `${ex.shown} (redirected to ${hop})`;
  return new Error(`request to ${where} failed: ${reason}`, { cause: error });
}

function abortedError(shown: string, reason: unknown): Error {
  const why = reason instanceof Error && reason.name !== 'AbortError' ? `: ${reason.message}` : '';
  return new Error(`request to ${shown} was aborted${why}`, { cause: reason });
}

function parseHttpUrl(raw: string, what: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch (error) {
    throw new InvalidError(`invalid ${what}`, { cause: error });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InvalidError(`${what} must be http or https, got ${url.protocol}`);
  }
  return url;
}

function lowerCaseKeys(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
}

function without(headers: Record<string, string>, names: readonly string[]): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !names.includes(name)));
}

function flattenHeaders(headers: http.IncomingHttpHeaders): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}
