import { DecryptCommand, GenerateDataKeyCommand, type KMSClient } from '@aws-sdk/client-kms';
import {
  aesOpen,
  aesSeal,
  SEALED_PREFIX,
  SECRETS_ENCRYPTION_CONTEXT,
  SealedValueError,
  type SecretBox,
  splitSealed,
} from './secrets';

export interface KmsSecretBoxOptions {
  client: KMSClient;
  keyArn: string;
  /** How long one data key seals new values. @default 5 minutes */
  dataKeyTtlMs?: number;
  /** How many values one data key seals at most. @default 10_000 */
  dataKeyMaxUses?: number;
  /** How many decrypted data keys `open` keeps. @default 256 */
  openCacheSize?: number;
  /** How long a decrypted data key is kept. @default 15 minutes */
  openCacheTtlMs?: number;
  now?: () => number;
}

const KMS_PREFIX = `${SEALED_PREFIX}kms:`;

/**
 * Decrypted data keys by the header that carries them encrypted, the least recently
 * stored dropped first. An entry older than `ttlMs` is not given out.
 */
function dataKeyCache(size: number, ttlMs: number, now: () => number) {
  const keys = new Map<string, { key: Buffer; at: number }>();
  return {
    get(header: string): Buffer | undefined {
      const entry = keys.get(header);
      return entry && now() - entry.at < ttlMs ? entry.key : undefined;
    },
    remember(header: string, key: Buffer): void {
      keys.delete(header);
      keys.set(header, { key, at: now() });
      while (keys.size > size) {
        const oldest = keys.keys().next().value;
        if (oldest === undefined) break;
        keys.delete(oldest);
      }
    },
  };
}

type DataKeyCache = ReturnType<typeof dataKeyCache>;

interface SealingKey {
  key: Buffer;
  /** The sealed-value header: the prefix and the KMS-encrypted data key. */
  header: string;
  at: number;
  uses: number;
}

async function generateDataKey(
  options: KmsSecretBoxOptions,
  opened: DataKeyCache,
  now: () => number,
): Promise<SealingKey> {
  const out = await options.client.send(
    new GenerateDataKeyCommand({
      KeyId: options.keyArn,
      KeySpec: 'AES_256',
      EncryptionContext: { ...SECRETS_ENCRYPTION_CONTEXT },
    }),
  );
  if (!out.Plaintext || !out.CiphertextBlob) throw new Error('KMS GenerateDataKey returned no key');
  const key = Buffer.from(out.Plaintext);
  const header = `${KMS_PREFIX}${Buffer.from(out.CiphertextBlob).toString('base64url')}`;
  // The sealing side can open what it sealed without asking KMS.
  opened.remember(header, key);
  return { key, header, at: now(), uses: 0 };
}

/**
 * The data key new values are sealed with: one key for `ttlMs` or `maxUses` values,
 * whichever comes first. Concurrent seals that find it spent share one GenerateDataKey.
 */
function sealingKeys(generate: () => Promise<SealingKey>, ttlMs: number, maxUses: number, now: () => number) {
  let current: SealingKey | undefined;
  let pending: Promise<SealingKey> | undefined;
  return async (): Promise<SealingKey> => {
    if (current && now() - current.at < ttlMs && current.uses < maxUses) return current;
    pending ??= generate().finally(() => {
      pending = undefined;
    });
    current = await pending;
    return current;
  };
}

async function decryptDataKey(options: KmsSecretBoxOptions, header: string): Promise<Buffer> {
  const out = await options.client.send(
    new DecryptCommand({
      KeyId: options.keyArn,
      CiphertextBlob: Buffer.from(header.slice(KMS_PREFIX.length), 'base64url'),
      EncryptionContext: { ...SECRETS_ENCRYPTION_CONTEXT },
    }),
  );
  if (!out.Plaintext) throw new Error('KMS Decrypt returned no key');
  return Buffer.from(out.Plaintext);
}

/**
 * Envelope encryption: KMS issues an AES-256 data key, values are sealed locally with
 * AES-GCM, and the KMS-encrypted data key travels inside each sealed value. Data keys
 * are cached on both sides, so a task that runs every second costs a KMS Decrypt per
 * executor container every 15 minutes instead of one per run (KMS bills per request
 * and throttles per account), and the plaintext never leaves the function.
 */
export function createKmsSecretBox(options: KmsSecretBoxOptions): SecretBox {
  const now = options.now ?? Date.now;
  const opened = dataKeyCache(options.openCacheSize ?? 256, options.openCacheTtlMs ?? 15 * 60_000, now);
  const sealingKey = sealingKeys(
    () => generateDataKey(options, opened, now),
    options.dataKeyTtlMs ?? 5 * 60_000,
    options.dataKeyMaxUses ?? 10_000,
    now,
  );

  return {
    async seal(plain) {
      const key = await sealingKey();
      key.uses++;
      return aesSeal(key.key, key.header, plain);
    },

    async open(sealed) {
      const parts = splitSealed(sealed);
      if (!parts.header.startsWith(KMS_PREFIX)) {
        throw new SealedValueError('sealed value was not sealed with KMS');
      }
      const cached = opened.get(parts.header);
      if (cached) return aesOpen(cached, parts);
      const key = await decryptDataKey(options, parts.header);
      opened.remember(parts.header, key);
      return aesOpen(key, parts);
    },
  };
}
