import { isSealed, openHeaders, REDACTED, type SecretBox, sealHeaders } from '../../auth/secrets';
import type { NotificationEndpoint } from './endpoint-model';

const SECRET_FIELDS = ['password', 'token', 'routingKey'] as const;
type Fields = Record<string, unknown>;

const isRedactedUrl = (value: unknown) => typeof value === 'string' && value.endsWith(`/${REDACTED}`);

/**
 * Seals an endpoint's credentials before it is stored: passwords, tokens, routing
 * keys, credential headers, and a Slack webhook URL (the URL is the credential; its
 * origin is kept in clear for display). A value sent back as `<redacted>` keeps the
 * stored ciphertext.
 */
export async function sealEndpoint(
  next: NotificationEndpoint,
  box: SecretBox,
  current?: NotificationEndpoint,
): Promise<NotificationEndpoint> {
  const out = { ...next } as Fields;
  const stored = (current ?? {}) as Fields;
  for (const field of SECRET_FIELDS) {
    const value = out[field];
    if (typeof value !== 'string') continue;
    out[field] = value === REDACTED ? stored[field] : await box.seal(value);
  }
  if (next.type === 'slack') {
    if (isRedactedUrl(next.url)) {
      out.url = stored.url;
      out.urlOrigin = stored.urlOrigin;
    } else {
      out.urlOrigin = new URL(next.url).origin;
      out.url = await box.seal(next.url);
    }
  }
  if (next.type === 'http' && next.headers) {
    out.headers = await sealHeaders(
      next.headers,
      box,
      current?.type === 'http' ? current.headers : undefined,
    );
  }
  return out as NotificationEndpoint;
}

/** The endpoint with its credentials opened, plus the plaintexts so logs can be scrubbed of them. */
export async function openEndpoint(endpoint: NotificationEndpoint, box: SecretBox) {
  const out = { ...endpoint } as Fields;
  const secrets: string[] = [];
  const open = async (value: unknown) => {
    if (!isSealed(value)) return value;
    const plain = await box.open(value);
    secrets.push(plain);
    return plain;
  };
  for (const field of SECRET_FIELDS) out[field] = await open(out[field]);
  if (endpoint.type === 'slack') out.url = await open(endpoint.url);
  if (endpoint.type === 'http' && endpoint.headers) {
    const opened = await openHeaders(endpoint.headers, box);
    out.headers = opened.headers;
    secrets.push(...opened.secrets);
  }
  return { endpoint: out as NotificationEndpoint, secrets };
}
