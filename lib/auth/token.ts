import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { ulid } from 'ulid';

/**
 * Token strings are `<tokenID>.<secret>`: a ULID that names the stored item (so a
 * check is one GetItem) and 256 random bits. Only SHA-256 of the secret is stored.
 * A slow password hash buys nothing here: a 256-bit random secret cannot be guessed
 * from its hash, and the authorizer hashes on every uncached request.
 */
const SECRET_BYTES = 32;
const TOKEN_PATTERN = /^([0-9a-z]{26})\.([A-Za-z0-9_-]{43})$/;
/** Longer headers are refused before hashing anything. */
const MAX_HEADER_LENGTH = 1024;

export interface IssuedToken {
  id: string;
  token: string;
  tokenHash: string;
}

export function issueToken(newID: () => string = () => ulid().toLowerCase()): IssuedToken {
  const id = newID();
  const secret = randomBytes(SECRET_BYTES).toString('base64url');
  return { id, token: `${id}.${secret}`, tokenHash: sha256Hex(secret) };
}

/** A stored token's parts, or undefined when the string does not have that shape. */
export function parseStoredToken(token: string): { id: string; secret: string } | undefined {
  const match = TOKEN_PATTERN.exec(token);
  return match?.[1] && match[2] ? { id: match[1], secret: match[2] } : undefined;
}

/** `Token <token>` as InfluxDB clients send it; `Bearer <token>` is accepted too. */
export function tokenFromHeader(header: string | undefined): string | undefined {
  if (header === undefined || header.length > MAX_HEADER_LENGTH) return undefined;
  const match = /^(?:token|bearer) +(\S+) *$/i.exec(header);
  return match?.[1];
}

export function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

export function sha256Hex(value: string): string {
  return sha256(value).toString('hex');
}

/** Compares a presented secret with a stored digest in time independent of where they differ. */
export function secretMatches(secret: string, digest: Buffer): boolean {
  const presented = sha256(secret);
  return digest.length === presented.length && timingSafeEqual(presented, digest);
}

/** A random operator token for local mode; never of the stored-token shape. */
export function generateOperatorToken(): string {
  return `rota-operator-${randomBytes(SECRET_BYTES).toString('base64url')}`;
}
