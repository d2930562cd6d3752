import {
  isSealed,
  keptSecret,
  type OriginChange,
  openHeaders,
  originChange,
  REDACTED,
  type SecretBox,
  sealHeaders,
} from '../../auth/secrets';
import { InvalidError } from '../../errors';
import { type NotificationEndpoint, SECRET_FIELDS } from './endpoint-model';

type Fields = Record<string, unknown>;

const isRedactedUrl = (value: unknown) => typeof value === 'string' && value.endsWith(`/${REDACTED}`);

/** Where the stored endpoint sends: its URL, or a Slack webhook's origin (the URL itself is sealed). */
const storedTarget = (endpoint: NotificationEndpoint | undefined): string | undefined =>
  endpoint?.type === 'slack' ? endpoint.urlOrigin : endpoint?.url;

/**
 * Seals an endpoint's credentials before it is stored: passwords, tokens, routing
 * keys, credential headers, and a Slack webhook URL (the URL is the credential; its
 * origin is kept in clear for display). A value sent back as `<redacted>` keeps the
 * stored ciphertext, but only while the endpoint's URL keeps its origin, and only a
 * value that was stored: otherwise the request is a 400 that says so.
 */
export async function sealEndpoint(
  next: NotificationEndpoint,
  box: SecretBox,
  current?: NotificationEndpoint,
): Promise<NotificationEndpoint> {
  const out = { ...next } as Fields;
  const stored = (current ?? {}) as Fields;
  const moved = next.type === 'slack' ? undefined : originChange(storedTarget(current), next.url);
  for (const field of SECRET_FIELDS) {
    const value = out[field];
    if (typeof value !== 'string') continue;
    out[field] = value === REDACTED ? keptField(field, stored[field], moved) : await box.seal(value);
  }
  if (next.type === 'slack') {
    if (isRedactedUrl(next.url)) {
      out.url = keptWebhook(next.url, current);
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
      {
        field: 'headers',
        moved,
      },
    );
  }
  return out as NotificationEndpoint;
}

function keptField(field: string, stored: unknown, moved: OriginChange | undefined): string {
  const kept = keptSecret(typeof stored === 'string' ? stored : undefined, { field, moved });
  if (kept === undefined) {
    throw new InvalidError(
      `${field}: is ${REDACTED}, but there is no stored value to keep; send the ${field} itself`,
    );
  }
  return kept;
}

/** A Slack webhook written as `<origin>/<redacted>` keeps the stored URL, which must exist and sit at that origin. */
function keptWebhook(url: string, current: NotificationEndpoint | undefined): string {
  if (current?.type !== 'slack' || typeof current.url !== 'string') {
    throw new InvalidError(
      `url: a webhook URL ending in /${REDACTED} is valid only in a PATCH that keeps the stored one; send the whole webhook URL`,
    );
  }
  const origin = originChange(current.urlOrigin, url.slice(0, -`/${REDACTED}`.length));
  if (origin) {
    throw new InvalidError(
      `url: the stored webhook URL is kept only at its origin ${origin.from}; to send to ${origin.to}, send the whole webhook URL in clear`,
    );
  }
  return current.url;
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
