import { DecryptCommand, GenerateDataKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { createKmsSecretBox } from '../../lib/auth/kms-secret-box';
import { secretBoxFromConfig } from '../../lib/auth/secret-box';
import {
  createLocalSecretBox,
  generateSecretsKey,
  isSealed,
  openHeaders,
  originChange,
  parseSecretsKey,
  REDACTED,
  SealedValueError,
  scrubber,
  sealHeaders,
  secretValueProblem,
} from '../../lib/auth/secrets';
import { InvalidError } from '../../lib/errors';
import { redactTarget, sealTarget } from '../../lib/systems/tasks/http';

describe('the local secret box (AES-256-GCM)', () => {
  const box = createLocalSecretBox(generateSecretsKey());

  it('seals to an opaque string that opens to the original', async () => {
    const plain = 'Bearer s3cr3t-ünïcödé';
    const sealed = await box.seal(plain);
    expect(isSealed(sealed)).toBe(true);
    expect(sealed).not.toContain('s3cr3t');
    expect(await box.open(sealed)).toBe(plain);
    // A fresh IV each time: equal secrets do not look equal at rest.
    expect(await box.seal(plain)).not.toBe(sealed);
  });

  it('refuses a tampered value, a value under another key, and a plain string', async () => {
    const sealed = await box.seal('secret');
    const last = sealed.at(-2) === 'A' ? 'B' : 'A';
    await expect(box.open(`${sealed.slice(0, -2)}${last}${sealed.at(-1)}`)).rejects.toThrow(SealedValueError);
    const other = createLocalSecretBox(generateSecretsKey());
    await expect(other.open(sealed)).rejects.toThrow(/another key/);
    await expect(box.open('secret')).rejects.toThrow(SealedValueError);
  });

  it('takes its key as 64 hex digits or base64, and nothing shorter', () => {
    const key = generateSecretsKey();
    expect(parseSecretsKey(key.toString('hex'))).toEqual(key);
    expect(parseSecretsKey(key.toString('base64'))).toEqual(key);
    expect(() => parseSecretsKey('c2hvcnQ=')).toThrow(/32 bytes/);
  });

  it('is never replaced by clear text when no key is configured', () => {
    expect(() =>
      secretBoxFromConfig({ ROTA_SECRETS_KEY: undefined, ROTA_SECRETS_KMS_KEY_ARN: undefined }),
    ).toThrow(/no secrets key/);
  });
});

describe('the KMS secret box (envelope encryption)', () => {
  const kms = mockClient(KMSClient);
  const keyArn = 'arn:aws:kms:us-east-1:123456789012:key/test';
  const dataKeys: { plain: Buffer; blob: Buffer }[] = [];

  beforeEach(() => {
    kms.reset();
    dataKeys.length = 0;
    kms.on(GenerateDataKeyCommand).callsFake(() => {
      const key = { plain: generateSecretsKey(), blob: generateSecretsKey() };
      dataKeys.push(key);
      return { Plaintext: key.plain, CiphertextBlob: key.blob, KeyId: keyArn };
    });
    kms.on(DecryptCommand).callsFake((input: { CiphertextBlob: Uint8Array }) => {
      const key = dataKeys.find((k) => k.blob.equals(Buffer.from(input.CiphertextBlob)));
      if (!key) throw new Error('InvalidCiphertextException');
      return { Plaintext: key.plain, KeyId: keyArn };
    });
  });

  it('asks KMS for one data key per period, not per value, within Rota’s encryption context', async () => {
    let now = 0;
    const box = createKmsSecretBox({ client: new KMSClient({}), keyArn, now: () => now });
    const sealed = await Promise.all(['a', 'b', 'c'].map((v) => box.seal(v)));
    expect(kms.commandCalls(GenerateDataKeyCommand)).toHaveLength(1);
    expect(kms.commandCalls(GenerateDataKeyCommand)[0]?.args[0].input).toEqual({
      KeyId: keyArn,
      KeySpec: 'AES_256',
      EncryptionContext: { purpose: 'rota-secrets' },
    });
    expect(await Promise.all(sealed.map((s) => box.open(s)))).toEqual(['a', 'b', 'c']);
    // The sealing side opens its own values without asking KMS.
    expect(kms.commandCalls(DecryptCommand)).toHaveLength(0);

    now = 5 * 60_000;
    await box.seal('d');
    expect(kms.commandCalls(GenerateDataKeyCommand)).toHaveLength(2);
  });

  it('decrypts each data key once per container on the opening side', async () => {
    const sealer = createKmsSecretBox({ client: new KMSClient({}), keyArn });
    const values = await Promise.all(Array.from({ length: 20 }, (_, i) => sealer.seal(`secret-${i}`)));
    const executor = createKmsSecretBox({ client: new KMSClient({}), keyArn });
    for (const [i, value] of values.entries()) expect(await executor.open(value)).toBe(`secret-${i}`);
    expect(kms.commandCalls(DecryptCommand)).toHaveLength(1);
    expect(kms.commandCalls(DecryptCommand)[0]?.args[0].input).toMatchObject({
      KeyId: keyArn,
      EncryptionContext: { purpose: 'rota-secrets' },
    });
  });

  it('refuses tampering and values sealed by the local box', async () => {
    const box = createKmsSecretBox({ client: new KMSClient({}), keyArn });
    const sealed = await box.seal('secret');
    const flipped = sealed.replace(
      /:([^:]+)$/,
      (_, body: string) => `:${body.startsWith('A') ? 'B' : 'A'}${body.slice(1)}`,
    );
    await expect(box.open(flipped)).rejects.toThrow(SealedValueError);
    const local = await createLocalSecretBox(generateSecretsKey()).seal('x');
    await expect(box.open(local)).rejects.toThrow(/not sealed with KMS/);
  });
});

describe('credential headers', () => {
  const box = createLocalSecretBox(generateSecretsKey());

  it('are sealed by name; other headers stay as they are', async () => {
    const sealed = await sealHeaders(
      { Authorization: 'Bearer abc123', 'X-Api-Key': 'k-123', 'X-Trace': 'on', 'x-client-secret': 'shh!' },
      box,
    );
    expect(isSealed(sealed.Authorization)).toBe(true);
    expect(isSealed(sealed['X-Api-Key'])).toBe(true);
    expect(isSealed(sealed['x-client-secret'])).toBe(true);
    expect(sealed['X-Trace']).toBe('on');
    const opened = await openHeaders(sealed, box);
    expect(opened.headers).toEqual({
      Authorization: 'Bearer abc123',
      'X-Api-Key': 'k-123',
      'X-Trace': 'on',
      'x-client-secret': 'shh!',
    });
    expect(opened.secrets.sort()).toEqual(['Bearer abc123', 'k-123', 'shh!']);
  });

  it('keep their stored value when written back as <redacted>, and seal a planted ciphertext again', async () => {
    const stored = await sealHeaders({ Authorization: 'Bearer kept' }, box);
    const planted = await box.seal('someone else’s secret');
    const next = await sealHeaders({ authorization: REDACTED, 'X-Token': planted }, box, stored);
    expect(next.authorization).toBe(stored.Authorization);
    // Opening yields the planted string itself, never what it would decrypt to.
    expect((await openHeaders(next, box)).headers['X-Token']).toBe(planted);
  });

  it('refuse <redacted> where nothing is stored under that name, instead of sealing the placeholder', async () => {
    const stored = await sealHeaders({ Authorization: 'Bearer kept' }, box);
    const onCreate = await sealHeaders({ 'X-Api-Key': REDACTED }, box, {}, { field: 'target.headers' }).catch(
      (e: unknown) => e,
    );
    const otherName = await sealHeaders({ 'X-Other-Key': REDACTED }, box, stored).catch((e: unknown) => e);
    expect(onCreate).toBeInstanceOf(InvalidError);
    expect((onCreate as Error).message).toBe(
      "target.headers.X-Api-Key: is <redacted>, but there is no stored value to keep; send the header's value itself",
    );
    expect((otherName as Error).message).toMatch(
      /^headers\.X-Other-Key: is <redacted>, but there is no stored value/,
    );
  });

  it('are kept as <redacted> only while the URL keeps its origin', async () => {
    const stored = await sealHeaders({ Authorization: 'Bearer kept', 'X-Api-Key': 'key-kept' }, box);
    const moved = originChange('https://api.example.com/v1', 'https://attacker.example/v1');

    const refused = await sealHeaders({ Authorization: REDACTED, 'X-Trace': 'x' }, box, stored, {
      field: 'target.headers',
      moved,
    }).catch((e: unknown) => e);
    const resent = await sealHeaders({ Authorization: 'Bearer new-one' }, box, stored, {
      field: 'target.headers',
      moved,
    });

    expect((refused as Error).message).toBe(
      "target.headers.Authorization: was sent as <redacted>, but the URL's origin changed from https://api.example.com to https://attacker.example: send the secret again in clear (a stored secret only goes to the origin it was given for)",
    );
    expect(await box.open(resent.Authorization ?? '')).toBe('Bearer new-one');
  });

  it('tell an origin change by scheme, host and port, not by path or default port', () => {
    expect(originChange('https://a.example/x', 'https://a.example:443/y?q=1')).toBeUndefined();
    expect(originChange('http://a.example/', 'http://A.EXAMPLE:80/')).toBeUndefined();
    expect(originChange('https://a.example/', 'http://a.example/')).toEqual({
      from: 'https://a.example',
      to: 'http://a.example',
    });
    expect(originChange('https://a.example/', 'https://a.example:8443/')).toBeDefined();
    expect(originChange('https://a.example/', 'https://b.a.example/')).toBeDefined();
    expect(originChange(undefined, 'https://a.example/')).toBeUndefined();
  });

  it('must be long enough to scrub from logs', () => {
    expect(secretValueProblem('abc')).toMatch(/at least 4 characters/);
    expect(secretValueProblem('Bearer xyz')).toMatch(/at least 4 characters/);
    expect(secretValueProblem('')).toMatch(/at least 4 characters/);
    expect(secretValueProblem('abcd')).toBeUndefined();
    expect(secretValueProblem('Bearer abcd')).toBeUndefined();
    expect(secretValueProblem(REDACTED)).toBeUndefined();
  });

  it('are scrubbed from text, with and without their scheme', () => {
    const scrub = scrubber(['Bearer abc123', 'k-123', 'ab']);
    expect(scrub('echo: {"authorization":"Bearer abc123","key":"k-123","token":"abc123","x":"ab"}')).toBe(
      'echo: {"authorization":"<redacted>","key":"<redacted>","token":"<redacted>","x":"ab"}',
    );
    expect(scrubber([])('unchanged')).toBe('unchanged');
  });
});

describe('task targets at rest', () => {
  const box = createLocalSecretBox(generateSecretsKey());

  it('move URL credentials into a sealed Authorization header', async () => {
    const sealed = await sealTarget(
      { kind: 'http', url: 'https://user:p%40ss@example.com/hook', method: 'POST' },
      box,
    );
    if (sealed.kind !== 'http') throw new Error('kind changed');
    expect(sealed.url).toBe('https://example.com/hook');
    expect(await box.open(sealed.headers?.Authorization ?? '')).toBe(
      `Basic ${Buffer.from('user:p@ss').toString('base64')}`,
    );
  });

  it('take malformed percent-encoding in URL credentials as written', async () => {
    const sealed = await sealTarget({ kind: 'http', url: 'https://a%zz:b@example.com/', method: 'GET' }, box);
    if (sealed.kind !== 'http') throw new Error('kind changed');
    expect(await box.open(sealed.headers?.Authorization ?? '')).toBe(
      `Basic ${Buffer.from('a%zz:b').toString('base64')}`,
    );
  });

  it('keep an explicit Authorization header over URL credentials', async () => {
    const sealed = await sealTarget(
      {
        kind: 'http',
        url: 'https://u:p@example.com/',
        method: 'GET',
        headers: { authorization: 'Bearer t' },
      },
      box,
    );
    if (sealed.kind !== 'http') throw new Error('kind changed');
    expect(sealed.url).toBe('https://example.com/');
    expect(Object.keys(sealed.headers ?? {})).toEqual(['authorization']);
    expect(await box.open(sealed.headers?.authorization ?? '')).toBe('Bearer t');
  });

  it('show neither header secrets nor URL passwords in responses', () => {
    expect(
      redactTarget({
        kind: 'http',
        url: 'https://u:pw@example.com/x',
        method: 'GET',
        headers: { Cookie: 'c' },
      }),
    ).toEqual({
      kind: 'http',
      url: 'https://u:redacted@example.com/x',
      method: 'GET',
      headers: { Cookie: REDACTED },
    });
  });
});
