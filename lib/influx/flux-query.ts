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
  return { ...countTables(response.body), truncated: response.truncated };
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

function countTables(csv: string): { rows: number; tables: number } {
  let rows = 0;
  const tables = new Set<string>();
  let failure: string | undefined;
  stringToLines(
    csv,
    linesToTables({
      next(row, meta) {
        // A streamed failure is a table of its own with the columns `error` and `reference`.
        const labels = meta.columns.map((column) => column.label);
        if (labels.includes('error') && labels.includes('reference')) {
          failure ??= row[meta.column('error').index] ?? 'unknown error';
          return;
        }
        rows += 1;
        const table = labels.includes('table') ? row[meta.column('table').index] : undefined;
        tables.add(`${labels.join(',')}|${table ?? ''}`);
      },
      error(error) {
        failure ??= `unreadable answer: ${error.message}`;
      },
      complete() {},
    }),
  );
  if (failure !== undefined) throw new FluxQueryError(failure);
  return { rows, tables: tables.size };
}
