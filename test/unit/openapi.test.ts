import { describe, expect, it } from 'vitest';
import { EVENTS_ROUTE } from '../../lib/http/events-route';
import { META_ROUTES } from '../../lib/http/meta-routes';
import { buildOpenApi } from '../../lib/http/openapi';
import { openApiDocument, systemApiDocs } from '../../lib/systems/api-docs';
import { SYSTEMS } from '../../lib/systems/registry';

/** The document meta-api serves (built by `openApiDocument`, which the construct writes beside its bundle). */
const docs = [
  ...systemApiDocs(SYSTEMS),
  { tag: 'Events', routes: [EVENTS_ROUTE] },
  { tag: 'Meta', routes: META_ROUTES, public: true },
];
const document = openApiDocument(SYSTEMS);
const operations = Object.entries(document.paths ?? {}).flatMap(([path, item]) =>
  Object.entries(item as Record<string, { responses: Record<string, { content?: unknown }> }>).map(
    ([method, op]) => ({ key: `${method.toUpperCase()} ${path}`, op }),
  ),
);

describe('the OpenAPI document', () => {
  it('is generated from the route tables of every registered API and the meta routes', () => {
    expect(document).toEqual(buildOpenApi(docs));
  });

  it('lists every route of every registered API, and nothing else', () => {
    const routes = docs.flatMap((d) => d.routes.map((r) => `${r.method} ${r.path}`));
    expect(new Set(routes).size).toBe(routes.length);
    expect(operations.map((o) => o.key).sort()).toEqual([...routes].sort());
    // Spot checks against the shipped route tables.
    expect(routes).toEqual(
      expect.arrayContaining([
        'POST /api/v2/tasks',
        'PATCH /api/v2/checks/{id}',
        'GET /api/v2/checks/{id}/statuses',
        'GET /api/v2/notificationRules/{id}/log',
        'DELETE /api/v2/notificationEndpoints/{id}',
        'POST /api/v2/authorizations',
        'POST /api/v2/notificationRules/{id}/runs/{runID}/retry',
        'GET /health',
        'GET /api/v2/events',
      ]),
    );
    expect(routes.length).toBeGreaterThanOrEqual(49);
  });

  it('gives every route a JSON response schema for each success status but 204, and the error shape', () => {
    const missing: string[] = [];
    for (const { key, op } of operations) {
      const statuses = Object.keys(op.responses).filter((s) => s !== 'default');
      if (statuses.length === 0) missing.push(`${key}: no success response`);
      for (const status of statuses) {
        const hasBody = op.responses[status]?.content !== undefined;
        if (hasBody === (status === '204')) missing.push(`${key} ${status}: body ${hasBody}`);
      }
      expect(op.responses.default?.content, key).toEqual({
        'application/json': { schema: { $ref: '#/components/schemas/Error' } },
      });
    }
    expect(missing).toEqual([]);
  });

  it('documents request bodies and queries from the schemas that validate them', () => {
    const schemas = document.components?.schemas ?? {};
    const create = schemas.TaskCreateRequest as { properties: Record<string, unknown> };
    expect(create.properties.target).toBeDefined();
    expect(create.properties.type).toBeUndefined();
    expect(Object.keys(schemas)).toEqual(
      expect.arrayContaining(['Task', 'Run', 'Check', 'NotificationRule', 'Authorization', 'Error']),
    );
    const list = document.paths?.['/api/v2/tasks']?.get as { parameters: { name: string; in: string }[] };
    expect(list.parameters.map((p) => `${p.in}:${p.name}`)).toEqual(
      expect.arrayContaining(['query:orgID', 'query:limit', 'query:after']),
    );
    const run = document.paths?.['/api/v2/checks/{id}/runs/{runID}']?.get as {
      parameters: { name: string; in: string }[];
      responses: Record<string, { content: Record<string, { schema: unknown }> }>;
    };
    expect(run.parameters.map((p) => `${p.in}:${p.name}`)).toEqual(['path:id', 'path:runID']);
    expect(run.responses['200']?.content['application/json']?.schema).toEqual({
      $ref: '#/components/schemas/RunOutput',
    });
  });

  it('documents overlap on tasks and the backfill route with its body and answer', () => {
    const schemas = document.components?.schemas ?? {};
    const props = (name: string) => (schemas[name] as { properties: Record<string, unknown> }).properties;
    expect(props('TaskCreateRequest').overlap).toMatchObject({ enum: ['queue', 'skip', 'replace'] });
    // An update may also clear it with null.
    expect(JSON.stringify(props('TaskUpdateRequest').overlap)).toContain('"enum":["queue","skip","replace"]');
    expect(props('Task').overlap).toMatchObject({ enum: ['queue', 'skip', 'replace'] });
    const backfill = document.paths?.['/api/v2/tasks/{id}/backfill']?.post as {
      requestBody: { content: Record<string, { schema: unknown }> };
      responses: Record<string, unknown>;
    };
    expect(backfill.requestBody.content['application/json']?.schema).toEqual({
      $ref: '#/components/schemas/BackfillRequest',
    });
    expect(Object.keys(props('BackfillRequest')).sort()).toEqual(['end', 'overlap', 'start']);
    expect(Object.keys(props('Backfill')).sort()).toEqual(['created', 'runs']);
    expect(Object.keys(backfill.responses)).toContain('201');
  });

  it('documents GET /api/v2/events as a text/event-stream of events, with its filters and Last-Event-ID', () => {
    const events = document.paths?.['/api/v2/events']?.get as {
      parameters: { name: string; in: string }[];
      responses: Record<string, { content?: Record<string, { schema: unknown }> }>;
      security?: unknown;
    };
    expect(events.parameters.map((p) => `${p.in}:${p.name}`).sort()).toEqual([
      'header:Last-Event-ID',
      'query:orgID',
      'query:taskID',
      'query:type',
    ]);
    expect(events.responses['200']?.content).toEqual({
      'text/event-stream': { schema: { $ref: '#/components/schemas/Event' } },
    });
    expect(events.security).toBeUndefined();
    const event = document.components?.schemas?.Event as { properties: Record<string, unknown> };
    expect(Object.keys(event.properties)).toEqual(
      expect.arrayContaining(['id', 'type', 'orgID', 'runID', 'error']),
    );
  });

  it('documents jitter, startAt and endAt on tasks and the upcoming route with its limit', () => {
    const schemas = document.components?.schemas ?? {};
    const props = (name: string) => (schemas[name] as { properties: Record<string, unknown> }).properties;
    for (const field of ['jitter', 'startAt', 'endAt']) {
      expect(props('TaskCreateRequest')[field], field).toBeDefined();
      expect(JSON.stringify(props('TaskUpdateRequest')[field]), field).toContain('"null"');
      expect(props('Task')[field], field).toMatchObject({ type: 'string' });
    }
    expect(props('TaskCreateRequest').startAt).toMatchObject({ format: 'date-time' });
    const upcoming = document.paths?.['/api/v2/tasks/{id}/upcoming']?.get as {
      parameters: { name: string; in: string; schema: unknown }[];
      responses: Record<string, { content: Record<string, { schema: unknown }> }>;
    };
    expect(upcoming.parameters.find((p) => p.name === 'limit')?.schema).toMatchObject({
      minimum: 1,
      maximum: 100,
      default: 10,
    });
    expect(upcoming.responses['200']?.content['application/json']?.schema).toEqual({
      $ref: '#/components/schemas/UpcomingRuns',
    });
    const item = (props('UpcomingRuns').upcoming as { items: { properties: Record<string, unknown> } }).items;
    expect(Object.keys(item.properties).sort()).toEqual(['runAt', 'scheduledFor']);
  });

  it('marks the public routes as needing no token, and every other one as needing one', () => {
    expect(document.security).toEqual([{ TokenAuth: [] }]);
    const securityOf = (path: string) =>
      (document.paths?.[path]?.get as { security?: unknown } | undefined)?.security;
    expect(securityOf('/health')).toEqual([]);
    expect(document.paths?.['/api/v2/tasks']?.get).toBeDefined();
    expect(securityOf('/api/v2/tasks')).toBeUndefined();
  });
});
