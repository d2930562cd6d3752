import type { Authorization, Permission } from '../../lib/auth/model';
import type { AuthStore } from '../../lib/auth/store';
import { issueToken } from '../../lib/auth/token';

/** The operator token every e2e suite starts local mode with. */
export const TEST_OPERATOR_TOKEN = 'test-operator-token';

/** An in-memory AuthStore with the DynamoDB store's semantics, for unit tests. */
export function memoryAuthStore(): AuthStore {
  const items = new Map<string, Authorization>();
  const copy = (a: Authorization): Authorization => structuredClone(a);
  return {
    async create(a) {
      if (items.has(a.id)) return false;
      items.set(a.id, copy(a));
      return true;
    },
    async get(id) {
      const a = items.get(id);
      return a ? copy(a) : undefined;
    },
    async list({ orgID, userID, after, limit }) {
      const all = [...items.values()]
        .filter(
          (a) =>
            (orgID === undefined || a.orgID === orgID) &&
            (userID === undefined || a.userID === userID) &&
            (after === undefined || a.id > after),
        )
        .sort((a, b) => a.id.localeCompare(b.id));
      return { authorizations: all.slice(0, limit).map(copy), more: all.length > limit };
    },
    async update(id, change) {
      const a = items.get(id);
      if (!a) return undefined;
      if (change.status !== undefined) a.status = change.status;
      if (change.description !== undefined) a.description = change.description;
      a.updatedAt = change.updatedAt;
      return copy(a);
    },
    async delete(id) {
      return items.delete(id);
    },
  };
}

/** A stored authorization and the token string that unlocks it. */
export function storedAuthorization(overrides: Partial<Omit<Authorization, 'id' | 'tokenHash'>> = {}): {
  authorization: Authorization;
  token: string;
} {
  const issued = issueToken();
  const permissions: Permission[] = [
    { action: 'read', type: 'tasks' },
    { action: 'write', type: 'tasks' },
  ];
  return {
    token: issued.token,
    authorization: {
      id: issued.id,
      orgID: 'org-a',
      status: 'active',
      description: '',
      permissions,
      tokenHash: issued.tokenHash,
      createdAt: '2026-01-01T00:00:00.000Z',
      updatedAt: '2026-01-01T00:00:00.000Z',
      ...overrides,
    },
  };
}

type Rw = 'read' | 'write';

/** `{tasks: ['read', 'write']}` → InfluxDB permission bodies. */
export function permissionsBody(grants: Partial<Record<Permission['type'], Rw[]>>) {
  return Object.entries(grants).flatMap(([type, actions]) =>
    (actions ?? []).map((action) => ({ action, resource: { type } })),
  );
}

/** A decoded answer; tests read response fields directly. */
// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON fields and assert on them
export type ApiAnswer = { status: number; body: any; text: string; headers: Headers };

/** A fetch against local mode that sends a token (or none) and decodes the answer. */
export function apiClient(baseUrl: string) {
  return async (
    token: string | undefined,
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<ApiAnswer> => {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(token === undefined ? {} : { authorization: `Token ${token}` }),
        ...headers,
      },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    return { status: res.status, body: parsed, text, headers: res.headers };
  };
}

/** Issues a token over the API and returns its string and id. */
export async function createToken(
  baseUrl: string,
  issuer: string,
  orgID: string,
  grants: Partial<Record<Permission['type'], Rw[]>>,
): Promise<{ id: string; token: string }> {
  const res = await apiClient(baseUrl)(issuer, 'POST', '/api/v2/authorizations', {
    orgID,
    description: `test token for ${orgID}`,
    permissions: permissionsBody(grants),
  });
  if (res.status !== 201) throw new Error(`token create failed: ${res.status} ${res.text}`);
  return { id: res.body.id, token: res.body.token };
}
