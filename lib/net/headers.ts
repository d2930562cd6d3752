/**
 * Headers Rota's HTTP client owns. Framing (`Content-Length`, `Transfer-Encoding`) and
 * hop-by-hop headers (RFC 9110 §7.6.1, plus `Proxy-*`) set beside Rota's own framing
 * let one request carry a second one (request smuggling). `Host` would let a request
 * checked for one host be routed by the server to another; the URL names the host.
 * `Expect` changes how the exchange proceeds. None of them is set by a target, probe
 * or endpoint: they are refused when stored and dropped when sent.
 */
const CLIENT_OWNED = new Set([
  'connection',
  'content-length',
  'expect',
  'host',
  'keep-alive',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

export function isClientOwnedHeader(name: string): boolean {
  const lower = name.toLowerCase();
  return CLIENT_OWNED.has(lower) || lower.startsWith('proxy-');
}

export const CLIENT_OWNED_HEADERS_TEXT =
  'Connection, Content-Length, Expect, Host, Keep-Alive, TE, Trailer, Transfer-Encoding, Upgrade and Proxy-*';

const TAB = 0x09;
const DEL = 0x7f;

/**
 * Why a header value cannot be sent, or undefined when it can. Node's client sends
 * visible Latin-1, spaces and tabs (RFC 9110 field-value); anything else fails the run
 * late, and CR/LF would be an injected header line.
 */
export function headerValueProblem(value: string): string | undefined {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if ((code < 0x20 && code !== TAB) || code === DEL) {
      return 'contains a control character (CR, LF, NUL, …); only visible characters, spaces and tabs are allowed';
    }
    if (code > 0xff) return 'contains a character outside Latin-1, which HTTP headers cannot carry';
  }
  return undefined;
}

/** The headers without the ones Rota's client owns, whatever their case. */
export function withoutClientOwnedHeaders(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !isClientOwnedHeader(name)));
}
