import { linesToTables, stringToLines } from '@influxdata/influxdb-client';
import type { TargetPolicy } from '../net/address-policy';
import { safeRequest } from '../net/safe-http';

/** An InfluxDB v2 API a Flux script runs against. */
export interface InfluxConnection {
  /** The server's base URL, e.g. `https://influx.example.com:8086`. */
  url: string;
  /** The deployment's `Authorization: Token …`, or a task's own (opened) credential headers. */
  headers?: Record<string, string> | undefined;
  /** InfluxDB's `org` query parameter: the org name or ID the script runs in. */
  org?: string | undefined;
}

export interface FluxQuery {
  script: string;
  /** Flux's `now()`: a task's scheduled instant, as InfluxDB's own task runs set it. */
  now?: string | undefined;
  signal: AbortSignal;
  timeoutMs: number;
}

/** What a query answered, for the run's log. */
export interface FluxOutcome {
  rows: number;
  tables: number;
  /** The answer was longer than Rota reads: `rows` counts what was read. */
  truncated: boolean;
}

/** The failure InfluxDB reported, in its own words; `status` when it came as an HTTP error. */
export class FluxQueryError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

/** Rota reads this much of an answer; a task's outcome is its row count, not its data. */
const READ_BYTES = 1024 * 1024;
const QUERY_DIALECT = { header: true, annotations: ['datatype', 'group', 'default'] };

/**
 * Runs a Flux script with InfluxDB's `POST /api/v2/query` and counts the annotated CSV
 * it answers. InfluxDB reports a failed query either as an HTTP error with a
 * `{code, message}` body or, once streaming has begun, as an `error` table; both throw
 * a FluxQueryError with InfluxDB's message. Rota does not execute Flux itself.
 */
export async function runFluxQuery(
  influx: InfluxConnection,
  query: FluxQuery,
  policy: TargetPolicy,
): Promise<FluxOutcome> {
  const { body, truncated } = await postFluxQuery(influx, query, policy);
  return { ...countTables(body), truncated };
}

/** One series of a query's answer: its group key, and its numeric `_value`s in order. */
export interface FluxSeries {
  /** `_measurement=cpu,host=a`: the group key's columns (the window bounds left out). */
  key: string;
  points: { time?: string | undefined; value: number }[];
}

/**
 * Runs a Flux query and reads its series, as a check reads them: rows grouped by their
 * table's group key, each row's `_value` when it is a number. Fails as runFluxQuery does.
 */
export async function queryFluxSeries(
  influx: InfluxConnection,
  query: FluxQuery,
  policy: TargetPolicy,
): Promise<FluxSeries[]> {
  const { body } = await postFluxQuery(influx, query, policy);
  return readSeries(body);
}

async function postFluxQuery(
  influx: InfluxConnection,
  query: FluxQuery,
  policy: TargetPolicy,
): Promise<{ body: string; truncated: boolean }> {
  const url = new URL('/api/v2/query', influx.url);
  if (influx.org) url.searchParams.set('org', influx.org);
  const response = await safeRequest(
    {
      url: url.href,
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/csv',
        'user-agent': 'rota',
        ...influx.headers,
      },
      body: JSON.stringify({
        query: query.script,
        type: 'flux',
        dialect: QUERY_DIALECT,
        ...(query.now ? { now: query.now } : {}),
      }),
      signal: query.signal,
      timeoutMs: query.timeoutMs,
      maxBodyBytes: READ_BYTES,
    },
    policy,
  );
  if (response.status < 200 || response.status > 299) {
    throw new FluxQueryError(errorMessage(response.body), response.status);
  }
  return { body: response.body, truncated: response.truncated };
}

/** InfluxDB's error body is `{code, message}`; anything else is shown as text, bounded. */
function errorMessage(body: string): string {
  try {
    const parsed = JSON.parse(body) as { message?: unknown };
    if (typeof parsed.message === 'string' && parsed.message) return parsed.message;
  } catch {
    // Not JSON: a proxy's page, say; its start is still the best account of what failed.
  }
  return body.trim().slice(0, 200) || 'no message';
}

/** The window bounds are in every group key and say nothing about which series a row is. */
const WINDOW_COLUMNS = new Set(['_start', '_stop', 'result', 'table']);

type DataRow = Parameters<Parameters<typeof linesToTables>[0]['next']>;

/**
 * Walks an annotated-CSV answer's data rows. A streamed failure is a table of its own
 * with the columns `error` and `reference`; it, or an unreadable answer, throws a
 * FluxQueryError once the whole answer was read.
 */
function eachRow(csv: string, visit: (...row: DataRow) => void): void {
  let failure: string | undefined;
  stringToLines(
    csv,
    linesToTables({
      next(row, meta) {
        const labels = meta.columns.map((column) => column.label);
        if (labels.includes('error') && labels.includes('reference')) {
          failure ??= row[meta.column('error').index] ?? 'unknown error';
          return;
        }
        visit(row, meta);
      },
      error(error) {
        failure ??= `unreadable answer: ${error.message}`;
      },
      complete() {},
    }),
  );
  if (failure !== undefined) throw new FluxQueryError(failure);
}

function readSeries(csv: string): FluxSeries[] {
  const series = new Map<string, FluxSeries>();
  eachRow(csv, (row, meta) => {
    const labels = meta.columns.map((column) => column.label);
    const value = Number(meta.toObject(row)._value);
    if (!labels.includes('_value') || !Number.isFinite(value)) return;
    const key = meta.columns
      .filter((column) => column.group && !WINDOW_COLUMNS.has(column.label))
      .map((column) => `${column.label}=${row[column.index] ?? ''}`)
      .join(',');
    const time = labels.includes('_time') ? row[meta.column('_time').index] : undefined;
    const entry = series.get(key) ?? { key, points: [] };
    entry.points.push({ time: time || undefined, value });
    series.set(key, entry);
  });
  return [...series.values()];
}

function countTables(csv: string): { rows: number; tables: number } {
  let rows = 0;
  const tables = new Set<string>();
  eachRow(csv, (row, meta) => {
    const labels = meta.columns.map((column) => column.label);
    rows += 1;
    const table = labels.includes('table') ? row[meta.column('table').index] : undefined;
    tables.add(`${labels.join(',')}|${table ?? ''}`);
  });
  return { rows, tables: tables.size };
}
