import { describe, expect, it } from 'vitest';
import {
  callerFromContext,
  createAuthorizer,
  DENIED,
  DENIED_NO_HEADER,
  DENIED_SCHEME,
} from '../../lib/auth/authorizer';
import {
  can,
  currentPermissions,
  decodePermissions,
  encodePermissions,
  OPERATOR_CALLER,
} from '../../lib/auth/model';
import { operatorDigestFrom } from '../../lib/auth/operator';
import type { AuthStore } from '../../lib/auth/store';
import {
  generateOperatorToken,
  issueToken,
  parseStoredToken,
  secretMatches,
  sha256,
  sha256Hex,
  tokenFromHeader,
} from '../../lib/auth/token';
import { UnauthorizedError } from '../../lib/errors';
import { memoryAuthStore, storedAuthorization } from '../support/auth';

describe('tokens', () => {
  it('are <ULID>.<256-bit secret>, and only the SHA-256 of the secret is kept', () => {
    const issued = issueToken();
    expect(issued.token).toMatch(/^[0-9a-z]{26}\.[A-Za-z0-9_-]{43}$/);
    const parts = parseStoredToken(issued.token);
    expect(parts?.id).toBe(issued.id);
    expect(Buffer.from(parts?.secret ?? '', 'base64url')).toHaveLength(32);
    expect(issued.tokenHash).toBe(sha256Hex(parts?.secret ?? ''));
    expect(issued.tokenHash).not.toContain(parts?.secret);
    expect(issueToken().token).not.toBe(issued.token);
  });

  it('compare secrets against the stored digest', () => {
    const { token, tokenHash } = issueToken();
    const secret = parseStoredToken(token)?.secret ?? '';
    expect(secretMatches(secret, Buffer.from(tokenHash, 'hex'))).toBe(true);
    // Change the last character for sure: a fixed replacement is a no-op 1 run in 64.
    const altered = `${secret.slice(0, -1)}${secret.endsWith('A') ? 'B' : 'A'}`;
    expect(altered).not.toBe(secret);
    expect(secretMatches(altered, Buffer.from(tokenHash, 'hex'))).toBe(false);
    expect(secretMatches(secret, Buffer.alloc(3))).toBe(false);
  });

  it.each([
    ['Token abc', 'abc'],
    ['token abc', 'abc'],
    ['Bearer abc', 'abc'],
    ['Token  abc ', 'abc'],
    ['Basic abc', undefined],
    ['Token', undefined],
    ['Token a b', undefined],
    ['abc', undefined],
    [undefined, undefined],
    [`Token ${'x'.repeat(2000)}`, undefined],
  ])('reads %j from the Authorization header as %j', (header, token) => {
    expect(tokenFromHeader(header)).toBe(token);
  });

  it('generates operator tokens that can never be mistaken for stored ones', () => {
    const token = generateOperatorToken();
    expect(token.length).toBeGreaterThanOrEqual(40);
    expect(parseStoredToken(token)).toBeUndefined();
  });
});

describe('permissions', () => {
  it('travel as a sorted, de-duplicated list, and unknown entries grant nothing', () => {
    const encoded = encodePermissions([
      { action: 'write', type: 'tasks' },
      { action: 'read', type: 'tasks' },
      { action: 'read', type: 'tasks' },
    ]);
    expect(encoded).toBe('read:tasks,write:tasks');
    const decoded = decodePermissions(`${encoded},admin:everything,write:*`);
    expect([...decoded].sort()).toEqual(['read:tasks', 'write:tasks']);
  });

  it('are checked per action and system; the operator holds all', () => {
    const caller = { orgID: 'a', tokenID: 't', permissions: decodePermissions('read:tasks') };
    expect(can(caller, 'read', 'tasks')).toBe(true);
    expect(can(caller, 'write', 'tasks')).toBe(false);
    expect(can(caller, 'read', 'checks')).toBe(false);
    expect(can(OPERATOR_CALLER, 'write', 'authorizations')).toBe(true);
  });

  it("read the legacy notifications as InfluxDB's notificationRules and notificationEndpoints", () => {
    const stored = [
      { action: 'write', type: 'notifications' },
      { action: 'write', type: 'notificationRules' },
      { action: 'read', type: 'tasks' },
    ] as const;
    expect(currentPermissions(stored)).toEqual([
      { action: 'write', type: 'notificationRules' },
      { action: 'write', type: 'notificationEndpoints' },
      { action: 'read', type: 'tasks' },
    ]);
    expect(encodePermissions(stored)).toBe('read:tasks,write:notificationEndpoints,write:notificationRules');
    // A context encoded before the rename (cached by API Gateway) grants the same.
    const cached = { orgID: 'a', tokenID: 't', permissions: decodePermissions('read:notifications') };
    expect(can(cached, 'read', 'notificationRules')).toBe(true);
    expect(can(cached, 'read', 'notificationEndpoints')).toBe(true);
    expect(can(cached, 'write', 'notificationRules')).toBe(false);
    // Only a real alias expands: an inherited name is no resource.
    expect(currentPermissions([{ action: 'read', type: 'toString' }])).toEqual([
      { action: 'read', type: 'toString' },
    ]);
  });
});

describe('the authorizer', () => {
  const operator = 'an-operator-token-for-tests';
  const setup = async (stored: Parameters<typeof storedAuthorization>[0] = {}) => {
    const store = memoryAuthStore();
    const { authorization, token } = storedAuthorization(stored);
    await store.create(authorization);
    const authorizer = createAuthorizer({ store, operatorDigest: async () => sha256(operator) });
    return { store, authorization, token, authorizer };
  };

  it("passes an active token's org, id and permissions on", async () => {
    const { authorizer, authorization, token } = await setup();
    expect(await authorizer.authorize(`Token ${token}`)).toEqual({
      orgID: authorization.orgID,
      tokenID: authorization.id,
      permissions: 'read:tasks,write:tasks',
    });
  });

  it('recognises the operator token', async () => {
    const { authorizer } = await setup();
    expect(await authorizer.authorize(`Token ${operator}`)).toEqual({
      orgID: '',
      tokenID: 'operator',
      permissions: '*',
    });
  });

  it('refuses a missing, malformed, unknown, wrong, inactive or deleted token', async () => {
    const { authorizer, store, authorization, token } = await setup();
    const other = issueToken();
    const [id, secret] = token.split('.') as [string, string];
    // No header, another scheme, and a bad token are told apart; bad tokens are not.
    for (const header of [undefined, '', ' ']) {
      expect(await authorizer.authorize(header), String(header)).toEqual(DENIED_NO_HEADER);
    }
    for (const header of ['Token', `Basic ${token}`, `Token ${token} extra`]) {
      expect(await authorizer.authorize(header), String(header)).toEqual(DENIED_SCHEME);
    }
    for (const header of [
      `Token ${other.token}`,
      `Token ${id}.${wrongSecret(secret)}`,
      `Token ${operator}x`,
      `Token ${id}`,
    ]) {
      expect(await authorizer.authorize(header), String(header)).toEqual(DENIED);
    }
    await store.update(authorization.id, { status: 'inactive', updatedAt: 'now' });
    expect(await authorizer.authorize(`Token ${token}`)).toEqual(DENIED);
    await store.update(authorization.id, { status: 'active', updatedAt: 'now' });
    expect((await authorizer.authorize(`Token ${token}`)).tokenID).toBe(authorization.id);
    await store.delete(authorization.id);
    expect(await authorizer.authorize(`Token ${token}`)).toEqual(DENIED);
  });

  it('has no operator when none is configured', async () => {
    const authorizer = createAuthorizer({ store: memoryAuthStore(), operatorDigest: async () => undefined });
    expect(await authorizer.authorize(`Token ${operator}`)).toEqual(DENIED);
  });

  it('fails when the store fails, rather than letting anyone in', async () => {
    const broken: AuthStore = {
      ...memoryAuthStore(),
      get: async () => Promise.reject(new Error('ProvisionedThroughputExceeded')),
    };
    const authorizer = createAuthorizer({ store: broken, operatorDigest: async () => undefined });
    await expect(authorizer.authorize(`Token ${issueToken().token}`)).rejects.toThrow(/Provisioned/);
  });
});

describe('the caller behind a context', () => {
  it('is the operator only for the operator context', () => {
    expect(callerFromContext({ orgID: '', tokenID: 'operator', permissions: '*' })).toBe(OPERATOR_CALLER);
  });

  it('is an org token with its permissions', () => {
    const caller = callerFromContext({
      orgID: 'org-a',
      tokenID: '01jabcdefghjkmnpqrstvwxyz0',
      permissions: 'read:tasks',
    });
    expect(caller.orgID).toBe('org-a');
    expect(can(caller, 'read', 'tasks')).toBe(true);
    expect(can(caller, 'write', 'tasks')).toBe(false);
  });

  it('grants nothing for "*" from anyone but the operator', () => {
    const caller = callerFromContext({ orgID: 'a', tokenID: '01jabcdefghjkmnpqrstvwxyz0', permissions: '*' });
    expect(caller.orgID).toBe('a');
    expect(can(caller, 'read', 'tasks')).toBe(false);
  });

  it.each([
    ['the refused-token context', DENIED],
    ['no context', undefined],
    [
      'an operator id with partial permissions',
      { orgID: '', tokenID: 'operator', permissions: 'read:tasks' },
    ],
    [
      'a token without an org',
      { orgID: '', tokenID: '01jabcdefghjkmnpqrstvwxyz0', permissions: 'read:tasks' },
    ],
    ['a malformed token id', { orgID: 'a', tokenID: 'x', permissions: 'read:tasks' }],
    ['non-string fields', { orgID: 1, tokenID: ['x'], permissions: null }],
  ])('fails closed on %s', (_, context) => {
    expect(() => callerFromContext(context)).toThrow(UnauthorizedError);
  });

  it('says what is wrong with a refused request, never whether a token id exists', () => {
    const messageOf = (context: unknown) => {
      try {
        callerFromContext(context);
      } catch (error) {
        return (error as UnauthorizedError).message;
      }
      return 'accepted';
    };
    expect(messageOf(DENIED_NO_HEADER)).toBe('no Authorization header: send "Authorization: Token <token>"');
    expect(messageOf(DENIED_SCHEME)).toBe(
      'the Authorization header must read "Token <token>" (or "Bearer <token>")',
    );
    expect(messageOf(DENIED)).toBe('the token is invalid or inactive');
    expect(messageOf({ refused: 'toString' })).toBe('unauthorized access');
  });
});

describe('the operator credential', () => {
  const base = { ROTA_BOOTSTRAP_TOKEN_CACHE_SECONDS: 300 } as const;

  it('is the hash of the configured token, or the configured hash', async () => {
    const token = 'operator-token-of-sixteen+';
    expect(await operatorDigestFrom({ ...base, ROTA_BOOTSTRAP_TOKEN: token })()).toEqual(sha256(token));
    expect(await operatorDigestFrom({ ...base, ROTA_BOOTSTRAP_TOKEN_SHA256: sha256Hex(token) })()).toEqual(
      sha256(token),
    );
    expect(await operatorDigestFrom(base)()).toBeUndefined();
  });

  it('reads the secret once per cache period, and keeps the last good value through an outage', async () => {
    let now = 0;
    let value = 'first-operator-token-value';
    let fail = false;
    let reads = 0;
    const digest = operatorDigestFrom(
      { ...base, ROTA_BOOTSTRAP_TOKEN_SECRET_ARN: 'arn:secret' },
      async (id) => {
        reads++;
        expect(id).toBe('arn:secret');
        if (fail) throw new Error('secrets manager is down');
        return value;
      },
      () => now,
    );
    const burst = await Promise.all([digest(), digest(), digest()]);
    expect(burst.every((d) => d?.equals(sha256('first-operator-token-value')))).toBe(true);
    expect(reads).toBe(1);

    value = 'second-operator-token-value';
    now = 299_000;
    expect(await digest()).toEqual(sha256('first-operator-token-value'));
    now = 301_000;
    expect(await digest()).toEqual(sha256('second-operator-token-value'));

    fail = true;
    now = 700_000;
    expect(await digest()).toEqual(sha256('second-operator-token-value'));
  });

  it('fails without a last good value, and refuses a short secret', async () => {
    const down = operatorDigestFrom({ ...base, ROTA_BOOTSTRAP_TOKEN_SECRET_ARN: 'arn:x' }, async () => {
      throw new Error('down');
    });
    await expect(down()).rejects.toThrow('down');
    const short = operatorDigestFrom(
      { ...base, ROTA_BOOTSTRAP_TOKEN_SECRET_ARN: 'arn:x' },
      async () => 'short',
    );
    await expect(short()).rejects.toThrow(/shorter than 16/);
  });
});

/**
 * The secret with its first character changed: a first base64url character carries six
 * whole bits, so the secret's bytes change too (a changed last character may only touch
 * padding bits), and it always differs (a fixed suffix matched 1 secret in 4,096).
 */
function wrongSecret(secret: string): string {
  return (secret.startsWith('A') ? 'B' : 'A') + secret.slice(1);
}
