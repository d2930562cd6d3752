import { type AttributeValue, ScanCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENTS_PATH } from '../../lib/events/watch';
import { runRoutes } from '../../lib/http/run-routes';
import { AUTHORIZATIONS_BASE_PATH, authorizationRoutes } from '../../lib/systems/authorizations/http';
import { SYSTEMS } from '../../lib/systems/registry';
import { TASKS_BASE_PATH, taskRoutes } from '../../lib/systems/tasks/http';
import { API_MOUNTS } from '../../local/mounts';
import { type LocalRota, startLocal } from '../../local/start';
import { apiClient, createToken, TEST_OPERATOR_TOKEN } from '../support/auth';
import { dynamoClient } from '../support/emulators';

/**
 * Random and mutated requests against every route, from every kind of caller. No
 * request may cause a 500, a caller without a valid token always gets 401, and a
 * refused request leaves every stored item exactly as it was.
 */
describe('fuzzing every route', () => {
  const OP = TEST_OPERATOR_TOKEN;
  const NUM_RUNS = Number(process.env.ROTA_FUZZ_RUNS ?? 300);
  let rota: LocalRota;
  let api: ReturnType<typeof apiClient>;
  let scan: () => Promise<string>;
  let routes: { method: string; path: string }[];
  type Caller = { name: string; token: string | undefined; org?: string; readOnly?: boolean };
  let callers: Caller[];
  let ids: { org: 'org-a' | 'org-b'; kind: string; id: string }[];

  /** The scheduler moves these on active tasks by itself; nothing else changes without a request. */
  const SCHEDULER_FIELDS = ['version', 'latestScheduled', 'nextRunAt', 'DUEPK', 'DUEAT'];

  beforeAll(async () => {
    // No executor workers: runs stay as the API left them, so the table only changes by request.
    rota = await startLocal({ port: 0, workers: 0, env: { ROTA_BOOTSTRAP_TOKEN: OP } });
    api = apiClient(rota.url);
    const client = dynamoClient(rota.env.ROTA_DYNAMODB_ENDPOINT ?? '');
    scan = async () => {
      const items: Record<string, unknown>[] = [];
      let start: Record<string, AttributeValue> | undefined;
      do {
        const page = await client.send(
          new ScanCommand({ TableName: rota.env.ROTA_TABLE_NAME, ExclusiveStartKey: start }),
        );
        for (const item of page.Items ?? []) {
          const plain = unmarshall(item);
          for (const field of SCHEDULER_FIELDS) delete plain[field];
          items.push(plain);
        }
        start = page.LastEvaluatedKey;
      } while (start);
      return JSON.stringify(items.sort((x, y) => `${x.PK}|${x.SK}`.localeCompare(`${y.PK}|${y.SK}`)));
    };

    const full = await createToken(rota.url, OP, 'org-a', {
      tasks: ['read', 'write'],
      authorizations: ['read', 'write'],
    });
    const readOnly = await createToken(rota.url, OP, 'org-a', { tasks: ['read'] });
    const b = await createToken(rota.url, OP, 'org-b', { tasks: ['read', 'write'] });
    const inactive = await createToken(rota.url, OP, 'org-a', { tasks: ['read', 'write'] });
    await api(OP, 'PATCH', `/api/v2/authorizations/${inactive.id}`, { status: 'inactive' });
    callers = [
      { name: 'none', token: undefined },
      { name: 'malformed', token: 'not-a-token' },
      { name: 'forged', token: `${full.id}.${'A'.repeat(43)}` },
      { name: 'inactive', token: inactive.token },
      { name: 'operator', token: OP },
      { name: 'org-a', token: full.token, org: 'org-a' },
      { name: 'org-a read-only', token: readOnly.token, org: 'org-a', readOnly: true },
      { name: 'org-b', token: b.token, org: 'org-b' },
    ];

    const target = { kind: 'http', url: 'http://127.0.0.1:9/hook', method: 'POST' };
    ids = [];
    for (const [org, token] of [
      ['org-a', full.token],
      ['org-b', b.token],
    ] as const) {
      const task = await api(token, 'POST', '/api/v2/tasks', {
        name: `${org}-task`,
        every: '1h',
        status: 'inactive',
        target: { ...target, headers: { Authorization: 'Bearer fixture' } },
      });
      const run = await api(token, 'POST', `/api/v2/tasks/${task.body.id}/runs`, {});
      const victim = await createToken(rota.url, OP, org, { tasks: ['read'] });
      ids.push({ org, kind: 'task', id: task.body.id }, { org, kind: 'run', id: run.body.id });
      ids.push({ org, kind: 'authorization', id: victim.id });
    }

    // Routes: the OpenAPI document, the route tables it does not list, and every other mounted system.
    const doc = (await api(undefined, 'GET', '/api/v2/openapi.json')).body as {
      paths: Record<string, Record<string, unknown>>;
    };
    const dummy = {} as never;
    const listed = [
      ...Object.entries(doc.paths).flatMap(([path, ops]) =>
        Object.keys(ops).map((method) => ({ method: method.toUpperCase(), path })),
      ),
      ...taskRoutes(dummy, dummy, dummy, dummy),
      ...runRoutes(TASKS_BASE_PATH, dummy),
      ...authorizationRoutes({ store: dummy, resources: SYSTEMS.resources }),
    ];
    for (const { prefix } of API_MOUNTS) {
      if ([TASKS_BASE_PATH, AUTHORIZATIONS_BASE_PATH].includes(prefix) || !prefix.startsWith('/api/v2/'))
        continue;
      if (prefix.endsWith('.json')) continue;
      listed.push(
        { method: 'GET', path: prefix },
        { method: 'POST', path: prefix },
        { method: 'GET', path: `${prefix}/{id}` },
        { method: 'PATCH', path: `${prefix}/{id}` },
        { method: 'PUT', path: `${prefix}/{id}` },
        { method: 'DELETE', path: `${prefix}/{id}` },
        ...runRoutes(prefix, dummy),
      );
    }
    const seen = new Set<string>();
    routes = listed
      .map(({ method, path }) => ({ method, path }))
      .filter((r) => r.path !== '/health' && !r.path.endsWith('openapi.json'))
      .filter((r) => !seen.has(`${r.method} ${r.path}`) && seen.add(`${r.method} ${r.path}`));
  });
  afterAll(async () => {
    await rota?.stop();
  });

  it('covers tasks, runs and authorizations, and every other mounted system', () => {
    const keys = routes.map((r) => `${r.method} ${r.path}`);
    expect(keys).toEqual(
      expect.arrayContaining([
        'POST /api/v2/tasks',
        'PATCH /api/v2/tasks/{id}',
        'POST /api/v2/tasks/{id}/runs/{runID}/retry',
        'GET /api/v2/tasks/{id}/logs',
        'POST /api/v2/authorizations',
        'DELETE /api/v2/authorizations/{id}',
      ]),
    );
    expect(routes.length).toBeGreaterThanOrEqual(17);
  });

  const validBodies: Record<string, Record<string, unknown>> = {
    'POST /api/v2/tasks': {
      orgID: 'org-a',
      name: 'fuzzed',
      every: '1h',
      status: 'inactive',
      target: {
        kind: 'http',
        url: 'http://127.0.0.1:9/x',
        method: 'POST',
        headers: { Authorization: 'Bearer z' },
      },
    },
    'PATCH /api/v2/tasks/{id}': { name: 'renamed', description: 'd', every: '2h', status: 'inactive' },
    'POST /api/v2/tasks/{id}/runs': { scheduledFor: '2030-01-01T00:00:00Z' },
    'POST /api/v2/authorizations': {
      orgID: 'org-a',
      description: 'fuzzed',
      permissions: [{ action: 'read', resource: { type: 'tasks' } }],
    },
    'PATCH /api/v2/authorizations/{id}': { status: 'inactive', description: 'x' },
  };

  const weird = ['..', '%', '%E0%A4%A', '%00', ' ', 'a'.repeat(300), '😀', 'TASK#x', '*', "' OR 1=1 --"];
  const paramArb = () =>
    fc.oneof(
      { weight: 5, arbitrary: fc.constantFrom(...ids.map((x) => ({ ...x, raw: false }))) },
      { weight: 2, arbitrary: fc.string({ maxLength: 40 }).map((id) => ({ id, raw: false })) },
      { weight: 1, arbitrary: fc.stringMatching(/^[0-9a-z]{26}$/).map((id) => ({ id, raw: false })) },
      { weight: 1, arbitrary: fc.constantFrom(...weird).map((id) => ({ id, raw: true })) },
    );

  const mutate = (base: Record<string, unknown>) =>
    fc.oneof(
      // Often whole, so requests also get past validation into the stores.
      { weight: 3, arbitrary: fc.constant(base) },
      fc.constantFrom(...Object.keys(base)).map((key) => {
        const { [key]: _, ...rest } = base;
        return rest;
      }),
      fc
        .tuple(
          fc.constantFrom(...Object.keys(base), 'type', 'id', 'metadata', 'extra'),
          fc.jsonValue({ maxDepth: 3 }),
        )
        .map(([key, value]) => ({ ...base, [key]: value })),
      fc
        .tuple(
          fc.constantFrom(...Object.keys(base)),
          fc.constantFrom('org-b', '', null, -1, 1e308, 'x'.repeat(5000), [], {}),
        )
        .map(([key, value]) => ({ ...base, [key]: value })),
    );

  type Body =
    | { kind: 'json'; value: unknown }
    | { kind: 'raw'; text: string; contentType?: string }
    | { kind: 'none' };
  const bodyArb = (routeKey: string): fc.Arbitrary<Body> =>
    fc.oneof(
      { weight: 1, arbitrary: fc.constant<Body>({ kind: 'none' }) },
      {
        weight: 5,
        arbitrary: mutate(validBodies[routeKey] ?? { orgID: 'org-a', name: 'x' }).map(
          (value): Body => ({ kind: 'json', value }),
        ),
      },
      { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((value): Body => ({ kind: 'json', value })) },
      { weight: 1, arbitrary: fc.string({ maxLength: 200 }).map((text): Body => ({ kind: 'raw', text })) },
      {
        weight: 1,
        arbitrary: fc
          .constantFrom(
            '{"name":',
            '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[',
            `${'['.repeat(5000)}${']'.repeat(5000)}`,
            JSON.stringify({ name: 'x'.repeat(1024 * 1024 + 10) }),
            '{"__proto__":{"isAdmin":true},"name":"x"}',
            '{"constructor":{"prototype":{"x":1}}}',
            '{"orgID":"org-a","name":"x","every":"1h","target":{"kind":"http","url":"http://a%zz:%@example.com/"}}',
          )
          .map((text): Body => ({ kind: 'raw', text })),
      },
      {
        weight: 1,
        arbitrary: fc
          .tuple(
            fc.constantFrom(
              'text/plain',
              'application/x-www-form-urlencoded',
              'application/json; charset=utf-16',
              '',
            ),
            fc.jsonValue(),
          )
          .map(
            ([contentType, value]): Body => ({ kind: 'raw', text: JSON.stringify(value) ?? '', contentType }),
          ),
      },
    );

  const queryArb = fc.dictionary(
    fc.constantFrom(
      'orgID',
      'org',
      'limit',
      'after',
      'name',
      'status',
      'afterTime',
      'beforeTime',
      'userID',
      'x',
    ),
    fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.constantFrom(
        'org-a',
        'org-b',
        '0',
        '-1',
        '501',
        '1e3',
        'NaN',
        'active',
        '2026-01-01T00:00:00Z',
        'a'.repeat(100),
      ),
    ),
    { maxKeys: 4 },
  );

  it(`never answers 500, always 401 without a valid token, and changes nothing when it refuses (${NUM_RUNS} requests)`, async () => {
    const tally = { refused: 0, accepted: 0, unauthorized: 0 };
    const statuses: Record<string, number> = {};
    // Most requests carry a valid token, so they get past authentication into the routes.
    const callerArb = fc.oneof(
      ...callers.map((caller) => ({
        weight: caller.org || caller.token === OP ? 3 : 1,
        arbitrary: fc.constant(caller),
      })),
    );
    const requestArb = fc.tuple(callerArb, fc.nat(routes.length - 1)).chain(([caller, r]) => {
      const route = routes[r] ?? { method: 'GET', path: TASKS_BASE_PATH };
      const names = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1] ?? '');
      return fc.record({
        caller: fc.constant<Caller>(caller),
        route: fc.constant(route),
        params: fc.tuple(...names.map(() => paramArb())),
        query: queryArb,
        body: bodyArb(`${route.method} ${route.path}`),
        ifMatch: fc.option(fc.constantFrom('"1"', '"99"', 'W/"2"', 'nope', '*'), { nil: undefined }),
      });
    });

    await fc.assert(
      fc.asyncProperty(requestArb, async ({ caller, route, params, query, body, ifMatch }) => {
        let i = 0;
        const path = route.path.replace(/\{\w+\}/g, () => {
          const p = params[i++];
          return p ? (p.raw ? p.id : encodeURIComponent(p.id)) : 'x';
        });
        const search = new URLSearchParams(query).toString();
        const headers: Record<string, string> = {};
        if (caller.token !== undefined) headers.authorization = `Token ${caller.token}`;
        if (ifMatch !== undefined) headers['if-match'] = ifMatch;
        let payload: string | undefined;
        // fetch sends no body with GET.
        const sendsBody = route.method !== 'GET';
        if (sendsBody && body.kind === 'json') {
          payload = JSON.stringify(body.value);
          headers['content-type'] = 'application/json';
        } else if (sendsBody && body.kind === 'raw') {
          payload = body.text;
          headers['content-type'] = body.contentType ?? 'application/json';
        }

        const before = await scan();
        const res = await fetch(`${rota.url}${path}${search ? `?${search}` : ''}`, {
          method: route.method,
          headers,
          ...(payload === undefined ? {} : { body: payload }),
        });
        // An event stream (GET /api/v2/events) never ends by itself: its status and headers are the answer.
        const streaming = res.headers.get('content-type')?.startsWith('text/event-stream') ?? false;
        let text = '';
        if (streaming) await res.body?.cancel();
        else text = await res.text();
        const after = await scan();
        const what = `${caller.name} ${route.method} ${path}?${search} -> ${res.status} ${text.slice(0, 300)}`;
        // What the server saw after URL normalisation (`..` segments), and whether any function serves it.
        const finalPath = new URL(`${rota.url}${path}`).pathname;
        const mounted =
          finalPath === EVENTS_PATH ||
          API_MOUNTS.some((m) => finalPath === m.prefix || finalPath.startsWith(`${m.prefix}/`));

        const key = `${route.path.split('/')[3]} ${res.status}`;

        statuses[key] = (statuses[key] ?? 0) + 1;

        expect(res.status, what).toBeLessThan(500);
        if (res.status >= 400) {
          tally.refused++;
          expect(after, `a refused request changed stored data: ${what}`).toBe(before);
          // Every error is InfluxDB's {code, message} (API Gateway's own 404 for unknown prefixes aside).
          const error = JSON.parse(text) as { code?: unknown; message?: unknown };
          expect(typeof error.code, what).toBe('string');
          expect(typeof error.message, what).toBe('string');
        } else {
          tally.accepted++;
        }
        if (!caller.org && caller.token !== OP) {
          tally.unauthorized++;
          // Like API Gateway, a path no function serves is 404 before any token check.
          expect(res.status, what).toBe(mounted ? 401 : 404);
        }
        const onTasks = finalPath === TASKS_BASE_PATH || finalPath.startsWith(`${TASKS_BASE_PATH}/`);
        if (caller.readOnly && route.method !== 'GET' && onTasks) {
          expect(res.status, what).toBe(403);
        }
        const foreign = params.some((p) => 'org' in p && p.org !== caller.org);
        if (caller.org && foreign) {
          expect(res.status >= 400, `another org's item was served: ${what}`).toBe(true);
        }
      }),
      { numRuns: NUM_RUNS, endOnFailure: true },
    );
    if (process.env.ROTA_FUZZ_RUNS) console.log('fuzz tally', tally, statuses);
    // Enough of each kind to mean something.
    expect(tally.refused).toBeGreaterThan(NUM_RUNS / 4);
    expect(tally.unauthorized).toBeGreaterThan(NUM_RUNS / 10);
  }, 120_000);
});
