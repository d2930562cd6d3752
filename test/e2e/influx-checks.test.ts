import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpError, InfluxDB } from '@influxdata/influxdb-client';
import { ChecksAPI, type PostCheck } from '@influxdata/influxdb-client-apis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalRota, startLocal } from '../../local/start';
import { waitFor } from '../support/emulators';
import { type RecordedAnswer, recordingTransport, violationsOf } from '../support/influx-recording';

const TOKEN = 'test-operator-token';
const orgID = 'checks-org';

interface Received {
  query: string;
  now?: string;
}

/** Annotated CSV with InfluxDB's group key: one table per host. */
function cpuSeries(hosts: Record<string, { time: string; value: number }[]>): string {
  const lines = [
    '#datatype,string,long,dateTime:RFC3339,dateTime:RFC3339,dateTime:RFC3339,double,string,string,string',
    '#group,false,false,true,true,false,false,true,true,true',
    '#default,_result,,,,,,,,',
    ',result,table,_start,_stop,_time,_value,_field,_measurement,host',
  ];
  Object.entries(hosts).forEach(([host, points], table) => {
    for (const p of points) {
      lines.push(
        `,,${table},2026-12-01T00:00:00Z,2026-12-01T01:00:00Z,${p.time},${p.value},usage_user,cpu,${host}`,
      );
    }
  });
  return `${lines.join('\r\n')}\r\n`;
}

const ago = (ms: number) => new Date(Date.now() - ms).toISOString();

/**
 * A loopback stand-in for InfluxDB's `POST /api/v2/query`, answering by the script's
 * measurement as a server running it would, and recording what it received.
 */
function startInfluxStandIn() {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    let text = '';
    req.on('data', (chunk: Buffer) => {
      text += chunk.toString();
    });
    req.on('end', () => {
      const body = JSON.parse(text || '{}') as Received;
      received.push(body);
      const q = body.query ?? '';
      const answers: Record<string, string> = {
        cpu_mixed: cpuSeries({
          a: [
            { time: ago(120_000), value: 50 },
            { time: ago(60_000), value: 95 },
          ],
          b: [
            { time: ago(120_000), value: 40 },
            { time: ago(60_000), value: 45 },
          ],
        }),
        heartbeat_old: cpuSeries({ a: [{ time: ago(480_000), value: 1 }] }),
        heartbeat_fresh: cpuSeries({ a: [{ time: ago(5_000), value: 1 }] }),
        heartbeat_zero: cpuSeries({
          a: [
            { time: ago(30_000), value: 0 },
            { time: ago(5_000), value: 0 },
          ],
        }),
      };
      const hit = Object.keys(answers).find((k) => q.includes(k));
      if (!hit) {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({ code: 'invalid', message: 'compilation failed: undefined identifier nope' }),
        );
        return;
      }
      res.writeHead(200, { 'content-type': 'text/csv; charset=utf-8' });
      res.end(answers[hit]);
    });
  });
  return new Promise<{ url: string; received: Received[]; close: () => Promise<void> }>((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}`,
        received,
        close: () => new Promise((r) => server.close(() => r())),
      });
    }),
  );
}

/** The body InfluxDB's UI sends for a threshold check built in its query builder. */
function uiThresholdCheck(name: string, measurement: string, thresholds: unknown[]): PostCheck {
  return {
    type: 'threshold',
    status: 'active',
    name,
    orgID,
    query: {
      text: `from(bucket: "telegraf")\n  |> range(start: v.timeRangeStart, stop: v.timeRangeStop)\n  |> filter(fn: (r) => r["_measurement"] == "${measurement}")\n  |> aggregateWindow(every: 1m, fn: mean, createEmpty: false)\n  |> yield(name: "mean")`,
      editMode: 'builder',
      name: '',
      builderConfig: {
        buckets: ['telegraf'],
        tags: [{ key: '_measurement', values: [measurement], aggregateFunctionType: 'filter' }],
        functions: [{ name: 'mean' }],
        aggregateWindow: { period: '1m', fillValues: false },
      },
    },
    every: '1m',
    offset: '0s',
    tags: [{ key: 'team', value: 'infra' }],
    statusMessageTemplate: 'Check: ${ r._check_name } is: ${ r._level } (team ${ r.team })',
    thresholds,
    labels: [],
  } as unknown as PostCheck;
}

function uiDeadmanCheck(name: string, measurement: string, extra: Record<string, unknown>): PostCheck {
  return {
    ...uiThresholdCheck(name, measurement, []),
    type: 'deadman',
    thresholds: undefined,
    timeSince: '90s',
    staleTime: '10m',
    reportZero: false,
    level: 'CRIT',
    ...extra,
  } as unknown as PostCheck;
}

describe("InfluxDB's checks in local mode: the UI's bodies, and Flux checks on a loopback InfluxDB", () => {
  let rota: LocalRota;
  let influx: Awaited<ReturnType<typeof startInfluxStandIn>>;
  let checks: ChecksAPI;
  /** Every answer the official client received, checked against the contract at the end. */
  const answers: RecordedAnswer[] = [];

  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${rota.url}${path}`, {
      method,
      headers: { 'content-type': 'application/json', authorization: `Token ${TOKEN}` },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as Record<string, unknown> };
  };

  /** Runs the check now; returns the ended run and the newest status. */
  async function runNow(checkID: string) {
    const run = (await api('POST', `/api/v2/checks/${checkID}/runs`, {})).body;
    const ended = await waitFor(
      async () => {
        const current = (await api('GET', `/api/v2/checks/${checkID}/runs/${run.id}`)).body;
        return ['success', 'failed'].includes(String(current.status)) ? current : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 100, what: 'the check run to end' },
    );
    const statuses = (await api('GET', `/api/v2/checks/${checkID}/statuses`)).body.statuses as Record<
      string,
      unknown
    >[];
    return { run: ended, status: statuses[0] };
  }

  beforeAll(async () => {
    influx = await startInfluxStandIn();
    rota = await startLocal({
      port: 0,
      workers: 4,
      env: { ROTA_BOOTSTRAP_TOKEN: TOKEN, ROTA_INFLUX_URL: influx.url, ROTA_INFLUX_TOKEN: 'influx-token' },
    });
    const plain = new InfluxDB({ url: rota.url, token: TOKEN });
    checks = new ChecksAPI(
      new InfluxDB({ url: rota.url, token: TOKEN, transport: recordingTransport(plain.transport, answers) }),
    );
  });
  afterAll(async () => {
    await rota?.stop();
    await influx?.close();
  });

  it("accepts the UI's threshold body and answers InfluxDB's Check: query, tags as a list, allValues kept", async () => {
    const body = uiThresholdCheck('cpu hot', 'cpu_mixed', [
      { type: 'greater', value: 90, level: 'CRIT', allValues: false },
    ]);
    const check = await checks.createCheck({ body });
    expect(check).toMatchObject({
      type: 'threshold',
      name: 'cpu hot',
      orgID,
      every: '1m',
      query: { text: (body as { query: { text: string } }).query.text, editMode: 'builder' },
      tags: [{ key: 'team', value: 'infra' }],
      thresholds: [{ type: 'greater', value: 90, level: 'CRIT', allValues: false }],
      labels: [],
    });
    expect(check).not.toHaveProperty('probe');
    expect(await checks.getChecksID({ checkID: check.id ?? '' })).toEqual(check);
  });

  it("runs the query on the operator's InfluxDB with the check's window, and grades each series' latest value", async () => {
    const check = await checks.createCheck({
      body: uiThresholdCheck('cpu crit', 'cpu_mixed', [{ type: 'greater', value: 90, level: 'CRIT' }]),
    });
    const { run, status } = await runNow(check.id ?? '');
    expect(run.status).toBe('success');
    // Host a's latest value is 95: CRIT, with InfluxDB's template variables rendered.
    expect(status).toMatchObject({
      level: 'CRIT',
      value: 95,
      message: 'Check: cpu crit is: crit (team infra)',
    });
    // Other active checks of this suite may run on their schedule meanwhile: find this run's query.
    const sent = influx.received.findLast((r) => r.now === run.scheduledFor);
    expect(sent?.query).toMatch(
      /^option v = \{timeRangeStart: -1m, timeRangeStop: now\(\), windowPeriod: 1m\}\n/,
    );
    expect(sent?.now).toBe(run.scheduledFor);
  });

  it('with allValues, alerts only when every value in the window crosses', async () => {
    const check = await checks.createCheck({
      body: uiThresholdCheck('cpu all', 'cpu_mixed', [
        { type: 'greater', value: 90, level: 'CRIT', allValues: true },
        { type: 'greater', value: 30, level: 'WARN', allValues: true },
      ]),
    });
    // Host a went 50 → 95: not all above 90, but all above 30.
    expect((await runNow(check.id ?? '')).status).toMatchObject({ level: 'WARN' });
  });

  it("grades a deadman check as InfluxDB does: silent past timeSince, reportZero's zeros, staleTime's cut-off", async () => {
    const old = await checks.createCheck({ body: uiDeadmanCheck('beat old', 'heartbeat_old', {}) });
    expect(old).toMatchObject({
      type: 'deadman',
      timeSince: '90s',
      staleTime: '10m',
      reportZero: false,
      level: 'CRIT',
    });
    expect((await runNow(old.id ?? '')).status).toMatchObject({ level: 'CRIT' });
    // The deadman's query covers staleTime.
    expect(influx.received.findLast((r) => r.query.includes('heartbeat_old'))?.query).toContain(
      'timeRangeStart: -10m',
    );

    const fresh = await checks.createCheck({ body: uiDeadmanCheck('beat fresh', 'heartbeat_fresh', {}) });
    expect((await runNow(fresh.id ?? '')).status).toMatchObject({ level: 'OK' });

    const zeros = await checks.createCheck({
      body: uiDeadmanCheck('beat zero', 'heartbeat_zero', { reportZero: true }),
    });
    expect((await runNow(zeros.id ?? '')).status).toMatchObject({ level: 'CRIT' });

    // Silent for 8 min, stale after 5: the series is dropped, nothing to report on.
    const stale = await checks.createCheck({
      body: uiDeadmanCheck('beat stale', 'heartbeat_old', { staleTime: '5m' }),
    });
    expect((await runNow(stale.id ?? '')).status).toMatchObject({ level: 'UNKNOWN' });
  });

  it("fails the run with InfluxDB's message when the query fails", async () => {
    const check = await checks.createCheck({
      body: uiThresholdCheck('bad query', 'nope', [{ type: 'greater', value: 1, level: 'CRIT' }]),
    });
    const { run } = await runNow(check.id ?? '');
    expect(run.status).toBe('failed');
    const got = (await api('GET', `/api/v2/checks/${check.id}`)).body;
    expect(got.lastRunError).toBe('flux query failed: compilation failed: undefined identifier nope');
  });

  it('replaces a check with PUT, as InfluxDB does: what the body leaves out is cleared', async () => {
    const check = await checks.createCheck({
      body: {
        ...uiThresholdCheck('to replace', 'cpu_mixed', [{ type: 'lesser', value: 1, level: 'INFO' }]),
        description: 'old',
      } as PostCheck,
    });
    const replaced = await checks.putChecksID({
      checkID: check.id ?? '',
      body: {
        ...check,
        name: 'replaced',
        description: undefined,
        tags: [{ key: 'team', value: 'db' }],
        thresholds: [{ type: 'range', min: 1, max: 2, within: true, level: 'WARN' }],
      } as unknown as PostCheck,
    });
    expect(replaced).toMatchObject({
      id: check.id,
      name: 'replaced',
      description: '',
      tags: [{ key: 'team', value: 'db' }],
      thresholds: [{ type: 'range', min: 1, max: 2, within: true, level: 'WARN' }],
    });
  });

  it('pages with offset and limit (default 20, at most 100), with next and prev links', async () => {
    const pagedOrg = 'paged-org';
    for (let i = 0; i < 23; i++) {
      await checks.createCheck({
        body: {
          ...uiThresholdCheck(`p${i}`, 'cpu_mixed', [{ type: 'greater', value: 1, level: 'CRIT' }]),
          orgID: pagedOrg,
          status: 'inactive',
        } as PostCheck,
      });
    }
    const first = await checks.getChecks({ orgID: pagedOrg });
    expect(first.checks).toHaveLength(20);
    expect(first.links?.next).toContain('offset=20');
    const second = await checks.getChecks({ orgID: pagedOrg, offset: 20 });
    expect(second.checks).toHaveLength(3);
    expect(second.links?.next).toBeUndefined();
    expect(second.links?.prev).toContain(`orgID=${pagedOrg}`);
    const ids = new Set([...(first.checks ?? []), ...(second.checks ?? [])].map((c) => c.id));
    expect(ids.size).toBe(23);
    expect(
      (await checks.getChecks({ orgID: pagedOrg, offset: 5, limit: 2 })).checks?.map((c) => c.id),
    ).toEqual(first.checks?.slice(5, 7).map((c) => c.id));

    const tooMany = await api('GET', `/api/v2/checks?orgID=${pagedOrg}&limit=101`);
    expect(tooMany.status).toBe(400);
    expect(String(tooMany.body.message)).toContain('limit');
  });

  it('refuses a check with neither a probe nor a query, and one with both, naming the field', async () => {
    const neither = await api('POST', '/api/v2/checks', {
      ...uiThresholdCheck('none', 'cpu_mixed', [{ type: 'greater', value: 1, level: 'CRIT' }]),
      query: { text: '' },
    });
    expect(neither.status).toBe(400);
    expect(neither.body).toMatchObject({ code: 'invalid' });
    expect(String(neither.body.message)).toContain('query');

    const both = await api('POST', '/api/v2/checks', {
      ...uiThresholdCheck('both', 'cpu_mixed', [{ type: 'greater', value: 1, level: 'CRIT' }]),
      probe: { url: 'http://127.0.0.1:9/' },
    });
    expect(both.status).toBe(400);
    expect(String(both.body.message)).toContain('probe');
  });

  it('answers an HttpError, not a crash, through the official client', async () => {
    await expect(checks.getChecksID({ checkID: 'missing' })).rejects.toBeInstanceOf(HttpError);
  });

  it("every answer InfluxDB's client received conforms to the vendored contract", () => {
    expect(answers.length).toBeGreaterThan(10);
    expect(violationsOf(answers)).toEqual([]);
  });
});
