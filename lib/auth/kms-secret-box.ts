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

/**
 * Envelope encryption: KMS issues an AES-256 data key, values are sealed locally with
 * AES-GCM, and the KMS-encrypted data key travels inside each sealed value. Data keys
 * are cached on both sides, so a task that runs every second costs a KMS Decrypt per
 * executor container every 15 minutes instead of one per run (KMS bills per request
 * and throttles per account), and the plaintext never leaves the function.
 */
export function createKmsSecretBox(options: KmsSecretBoxOptions): SecretBox {
  const now = options.now ?? Date.now;
  const ttl = options.dataKeyTtlMs ?? 5 * 60_000;
  const maxUses = options.dataKeyMaxUses ?? 10_000;
  const openSize = options.openCacheSize ?? 256;
  const openTtl = options.openCacheTtlMs ?? 15 * 60_000;

  let current: { key: Buffer; header: string; at: number; uses: number } | undefined;
  let pending: Promise<NonNullable<typeof current>> | undefined;
  const opened = new Map<string, { key: Buffer; at: number }>();

  const remember = (header: string, key: Buffer) => {
    opened.delete(header);
    opened.set(header, { key, at: now() });
    while (opened.size > openSize) {
      const oldest = opened.keys().next().value;
      if (oldest === undefined) break;
      opened.delete(oldest);
    }
  };

  const newDataKey = async () => {
    const out = await options.client.send(
      new GenerateDataKeyCommand({
        KeyId: options.keyArn,
        KeySpec: 'AES_256',
        EncryptionContext: { ...SECRETS_ENCRYPTION_CONTEXT },
      }),
    );
    if (!out.Plaintext || !out.CiphertextBlob) throw new Error('KMS GenerateDataKey returned no key');
    const key = Buffer.from(out.Plaintext);
    const header = `${SEALED_PREFIX}kms:${Buffer.from(out.CiphertextBlob).toString('base64url')}`;
    // The sealing side can open what it sealed without asking KMS.
    remember(header, key);
    return { key, header, at: now(), uses: 0 };
  };

  const dataKey = async () => {
    if (current && now() - current.at < ttl && current.uses < maxUses) return current;
    pending ??= newDataKey().finally(() => {
      pending = undefined;
    });
    current = await pending;
    return current;
  };

  return {
    async seal(plain) {
      const key = await dataKey();
      key.uses++;
      return aesSeal(key.key, key.header, plain);
    },

    async open(sealed) {
      const parts = splitSealed(sealed);
      const kmsPrefix = `${SEALED_PREFIX}kms:`;
      if (!parts.header.startsWith(kmsPrefix)) {
        throw new SealedValueError('sealed value was not sealed with KMS');
      }
      let entry = opened.get(parts.header);
      if (!entry || now() - entry.at >= openTtl) {
        const out = await options.client.send(
          new DecryptCommand({
            KeyId: options.keyArn,
            CiphertextBlob: Buffer.from(parts.header.slice(kmsPrefix.length), 'base64url'),
            EncryptionContext: { ...SECRETS_ENCRYPTION_CONTEXT },
          }),
        );
        if (!out.Plaintext) throw new Error('KMS Decrypt returned no key');
        remember(parts.header, Buffer.from(out.Plaintext));
        entry = opened.get(parts.header);
      }
      if (!entry) throw new Error('data key cache lost its entry');
      return aesOpen(entry.key, parts);
    },
  };
}
