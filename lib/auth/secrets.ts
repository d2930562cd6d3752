import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { InvalidError } from '../errors';

/**
 * Encrypts secrets that systems keep in their stored documents (target headers,
 * endpoint credentials). Sealed values are plain strings, so they fit wherever the
 * plaintext did; `open` refuses anything that was tampered with or sealed under
 * another key.
 */
export interface SecretBox {
  seal(plain: string): Promise<string>;
  open(sealed: string): Promise<string>;
}

/** Every sealed value starts with this, whichever box sealed it. */
export const SEALED_PREFIX = 'rota-sealed:1:';

export const REDACTED = '<redacted>';

/** Bound into every KMS call, so IAM can limit the key's use to sealing secrets (infra reads it too). */
export const SECRETS_ENCRYPTION_CONTEXT = { purpose: 'rota-secrets' } as const;

export function isSealed(value: unknown): value is string {
  return typeof value === 'string' && value.startsWith(SEALED_PREFIX);
}

/**
 * Header names that carry credentials: redacted in responses, sealed at rest,
 * scrubbed from run logs, and dropped on a redirect to another origin. The one
 * classifier for all four, so a header is never secret for one and not another.
 */
const SECRET_HEADER =
  /^(authorization|proxy-authorization|cookie|x-api-key|api-key|x-auth-token)$|token|secret|key|password|credential|signature/i;

export function isSecretHeader(name: string): boolean {
  return SECRET_HEADER.test(name);
}

const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * AES-256-GCM under `key`, with the sealed string's own header as associated data,
 * so a ciphertext cannot be moved under another key reference.
 */
export function aesSeal(key: Buffer, header: string, plain: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(header, 'utf8'));
  const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final(), cipher.getAuthTag()]);
  return `${header}:${iv.toString('base64url')}:${body.toString('base64url')}`;
}

/** Splits `<header>:<iv>:<body>`; `header` is everything before the last two parts. */
export function splitSealed(sealed: string): { header: string; iv: Buffer; body: Buffer } {
  const parts = sealed.split(':');
  const body = parts.pop();
  const iv = parts.pop();
  if (!isSealed(sealed) || iv === undefined || body === undefined) {
    throw new SealedValueError('not a sealed value');
  }
  return {
    header: parts.join(':'),
    iv: Buffer.from(iv, 'base64url'),
    body: Buffer.from(body, 'base64url'),
  };
}

export function aesOpen(key: Buffer, parts: { header: string; iv: Buffer; body: Buffer }): string {
  if (parts.iv.length !== IV_BYTES || parts.body.length < TAG_BYTES) {
    throw new SealedValueError('sealed value is malformed');
  }
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, parts.iv);
    decipher.setAAD(Buffer.from(parts.header, 'utf8'));
    decipher.setAuthTag(parts.body.subarray(parts.body.length - TAG_BYTES));
    const plain = Buffer.concat([
      decipher.update(parts.body.subarray(0, parts.body.length - TAG_BYTES)),
      decipher.final(),
    ]);
    return plain.toString('utf8');
  } catch (error) {
    throw new SealedValueError('sealed value failed authentication (wrong key or tampered)', {
      cause: error,
    });
  }
}

/** Raised when a sealed value cannot be opened; the message never contains the value. */
export class SealedValueError extends Error {}

/** A 32-byte key given as 64 hex digits or as base64. */
export function parseSecretsKey(text: string): Buffer {
  const trimmed = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(trimmed)
    ? Buffer.from(trimmed, 'hex')
    : Buffer.from(trimmed, 'base64');
  if (key.length !== 32) throw new Error('ROTA_SECRETS_KEY must be 32 bytes, as 64 hex digits or base64');
  return key;
}

export function generateSecretsKey(): Buffer {
  return randomBytes(32);
}

/**
 * Local mode's box: AES-256-GCM under one key. The key's fingerprint is part of every
 * sealed value, so opening under the wrong key says so instead of failing obscurely.
 */
export function createLocalSecretBox(key: Buffer): SecretBox {
  if (key.length !== 32) throw new Error('a local secret box needs a 32-byte key');
  const fingerprint = createHash('sha256').update(key).digest('hex').slice(0, 16);
  const header = `${SEALED_PREFIX}local:${fingerprint}`;
  return {
    async seal(plain) {
      return aesSeal(key, header, plain);
    },
    async open(sealed) {
      const parts = splitSealed(sealed);
      if (parts.header !== header) {
        throw new SealedValueError('sealed value was sealed under another key (ROTA_SECRETS_KEY changed?)');
      }
      return aesOpen(key, parts);
    },
  };
}

/** Shorter credentials could not be scrubbed from logs (see `scrubber`), so they are refused. */
export const MIN_SECRET_LENGTH = 4;

/**
 * Why a credential value cannot be stored, or undefined when it can. For a value
 * with a scheme (`Bearer <token>`), the part after the scheme counts: the scrubber
 * looks for it alone too.
 */
export function secretValueProblem(value: string): string | undefined {
  if (value === REDACTED) return undefined;
  const credential = /^\S+\s+(\S.*)$/.exec(value)?.[1] ?? value;
  return credential.length < MIN_SECRET_LENGTH
    ? `a credential must be at least ${MIN_SECRET_LENGTH} characters (after its scheme, as in "Bearer <token>"), or logs could not be scrubbed of it`
    : undefined;
}

/** A URL's origin (scheme, host and port) moved between what is stored and what is written. */
export interface OriginChange {
  from: string;
  to: string;
}

/** The change of origin from `stored` to `next`, or undefined when it stays (or nothing was stored). */
export function originChange(stored: string | undefined, next: string): OriginChange | undefined {
  if (stored === undefined) return undefined;
  const from = originOf(stored);
  const to = originOf(next);
  return from === to ? undefined : { from: from ?? '(unknown)', to: to ?? '(invalid URL)' };
}

function originOf(url: string): string | undefined {
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}

/** Where a `<redacted>` placeholder may keep a stored secret, and what to call it in errors. */
export interface KeepRules {
  /** The field path of the value, e.g. `target.headers.Authorization`. */
  field: string;
  /** Set when the URL the secret goes to moves to another origin: then nothing is kept. */
  moved?: OriginChange | undefined;
}

/**
 * The stored value that a `<redacted>` placeholder keeps, if any. A placeholder keeps
 * a secret only for the origin it was given for: a PATCH that moves the URL elsewhere
 * must send the secret again, or the stored one would follow the URL.
 */
export function keptSecret(stored: string | undefined, rules: KeepRules): string | undefined {
  if (rules.moved) {
    throw new InvalidError(
      `${rules.field}: was sent as ${REDACTED}, but the URL's origin changed from ${rules.moved.from} to ${rules.moved.to}: send the secret again in clear (a stored secret only goes to the origin it was given for)`,
    );
  }
  return stored;
}

/**
 * Seals the values of credential headers before they are stored. A value sent back
 * as `<redacted>` (a client that read the task and writes it back) keeps the value
 * stored under the same name, unless the URL moved to another origin (`keptSecret`).
 * Every other value is sealed as given, even one that looks sealed, so a caller can
 * never plant a ciphertext for the runner to open.
 */
export async function sealHeaders(
  headers: Record<string, string>,
  box: SecretBox,
  current: Record<string, string> = {},
  rules: { field: string; moved?: OriginChange | undefined } = { field: 'headers' },
): Promise<Record<string, string>> {
  const stored = new Map(Object.entries(current).map(([name, value]) => [name.toLowerCase(), value]));
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!isSecretHeader(name)) {
      out[name] = value;
      continue;
    }
    if (value !== REDACTED) {
      out[name] = await box.seal(value);
      continue;
    }
    const field = `${rules.field}.${name}`;
    const kept = keptSecret(stored.get(name.toLowerCase()), { field, moved: rules.moved });
    // Sealing the placeholder itself would send the literal `<redacted>` as the credential.
    if (kept === undefined) {
      throw new InvalidError(
        `${field}: is ${REDACTED}, but there is no stored value to keep; send the header's value itself`,
      );
    }
    out[name] = kept;
  }
  return out;
}

/** Opens the sealed credential headers; returns the plaintexts too, so they can be scrubbed from logs. */
export async function openHeaders(
  headers: Record<string, string>,
  box: SecretBox,
): Promise<{ headers: Record<string, string>; secrets: string[] }> {
  const out: Record<string, string> = {};
  const secrets: string[] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (isSecretHeader(name) && isSealed(value)) {
      const plain = await box.open(value);
      out[name] = plain;
      secrets.push(plain);
    } else {
      out[name] = value;
      if (isSecretHeader(name)) secrets.push(value);
    }
  }
  return { headers: out, secrets };
}

/** Shorter values are too likely to be ordinary words to scrub; none is stored (`secretValueProblem`). */
const MIN_SCRUBBED_LENGTH = MIN_SECRET_LENGTH;

/**
 * Replaces every occurrence of the given secrets, and of the token part of
 * `Bearer x`/`Basic x` values, with `<redacted>`: a target that echoes its request
 * headers must not put them into a run log.
 */
export function scrubber(secrets: readonly string[]): (text: string) => string {
  const needles = [
    ...new Set(
      secrets.flatMap((secret) => {
        const scheme = /^\S+\s+(\S.*)$/.exec(secret)?.[1];
        return scheme ? [secret, scheme] : [secret];
      }),
    ),
  ]
    .filter((s) => s.length >= MIN_SCRUBBED_LENGTH)
    .sort((a, b) => b.length - a.length);
  if (needles.length === 0) return (text) => text;
  return (text) => needles.reduce((out, needle) => out.split(needle).join(REDACTED), text);
}
