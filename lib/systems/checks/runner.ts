import { openHeaders, type SecretBox, scrubber } from '../../auth/secrets';
import { FluxQueryError, queryFluxSeries } from '../../influx/flux-query';
import type { TargetPolicy } from '../../net/address-policy';
import { safeRequest } from '../../net/safe-http';
import { type DeploymentInflux, deploymentConnection } from '../../runners/flux-target';
import { parseDurationMs } from '../../schedule/duration';
import type { Task } from '../../task/model';
import { renderTemplate, valueAt } from '../shared/template';
import type { Runner } from '../system';
import { deadmanVerdict, levelFor, type SeriesVerdict, thresholdVerdict } from './evaluate';
import { type CheckMetadata, type CheckStatus, type Level, PROBE_TIMEOUT, type Probe } from './model';
import type { StatusStore } from './status-store';

interface ProbeResult {
  ok: boolean;
  value?: number | undefined;
  error?: string | undefined;
}

const probeTimeoutMs = (timeout: string) => parseDurationMs(timeout, PROBE_TIMEOUT);

/**
 * Probes the URL. Every failure (connection error, timeout, non-2xx, no number at
 * `field`) becomes a result with an error instead of an exception: a failing probe is
 * what a check exists to report, not a failed run.
 */
async function probe(spec: Probe, policy: TargetPolicy, signal: AbortSignal): Promise<ProbeResult> {
  try {
    const response = await safeRequest(
      {
        url: spec.url,
        method: spec.method,
        headers: { 'user-agent': 'rota-check', accept: 'application/json', ...spec.headers },
        signal,
        timeoutMs: probeTimeoutMs(spec.timeout),
        maxBodyBytes: 256 * 1024,
      },
      policy,
    );
    if (response.status < 200 || response.status > 299) {
      return { ok: false, error: `probe answered HTTP ${response.status}` };
    }
    if (!spec.field) return { ok: true, value: response.status };
    let body: unknown;
    try {
      body = JSON.parse(response.body);
    } catch {
      return {
        ok: false,
        error: response.truncated ? 'probe body is too large to parse' : 'probe body is not JSON',
      };
    }
    const raw = valueAt(body, spec.field);
    const value =
      typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : Number.NaN;
    if (!Number.isFinite(value)) return { ok: false, error: `no number at field "${spec.field}"` };
    return { ok: true, value };
  } catch (error) {
    if (signal.aborted) throw error;
    return { ok: false, error: `probe failed: ${(error as Error).message}` };
  }
}

export interface CheckRunnerDeps {
  statuses: StatusStore;
  policy: TargetPolicy;
  /** Opens sealed probe credentials. */
  secrets: SecretBox;
  /** The operator's InfluxDB, which checks with a Flux query run on. */
  influx?: DeploymentInflux | undefined;
  now?: () => number;
}

/**
 * The level a probe result means: a deadman check fires once no probe has succeeded for
 * `timeSince`; a threshold check grades the value, and a probe with no value is UNKNOWN.
 */
function levelOf(
  check: CheckMetadata,
  result: ProbeResult,
  lastSuccessAt: string | undefined,
  createdAt: string,
  at: number,
): Level {
  if (check.kind === 'deadman') {
    // Before the first success, the check's creation starts the clock.
    const since = Date.parse(lastSuccessAt ?? createdAt);
    return at - since > parseDurationMs(check.timeSince) ? check.level : 'OK';
  }
  return result.ok && result.value !== undefined ? levelFor(check.thresholds, result.value) : 'UNKNOWN';
}

/**
 * What a status template may name: Rota's `${check.name}`, `${level}`, `${value}`, and
 * InfluxDB's `${r._check_name}`, `${r._level}`, `${r._value}` and tags as `${r.<tag>}`,
 * so the UI's templates render as they do in InfluxDB.
 */
function templateContext(
  task: CheckTask,
  level: Level,
  value: number | undefined,
  error: string | undefined,
) {
  const tags = task.metadata.tags;
  return {
    check: { id: task.id, name: task.name },
    level,
    value: value ?? '',
    tags,
    error: error ?? '',
    r: {
      ...tags,
      _check_id: task.id,
      _check_name: task.name,
      _level: level.toLowerCase(),
      _value: value ?? '',
    },
  };
}

/** A threshold check's failed probe says why; otherwise the check's template speaks. */
function statusMessage(task: CheckTask, level: Level, result: ProbeResult): string {
  const check = task.metadata;
  if (result.error && check.kind === 'threshold') return result.error;
  return renderTemplate(
    check.statusMessageTemplate,
    templateContext(task, level, result.value, result.error),
  );
}

type CheckTask = Task & { metadata: CheckMetadata };
type RunArgs = Parameters<Runner<CheckMetadata>>[0];

/** What one run measured and concluded, before it becomes a status. */
interface Outcome {
  level: Level;
  value?: number | undefined;
  error?: string | undefined;
  message: string;
  lastSuccessAt: string | undefined;
}

/** A check run: measure (probe or Flux), evaluate, write one status, remember the level for the next run. */
export function createCheckRunner(deps: CheckRunnerDeps): Runner<CheckMetadata> {
  const now = deps.now ?? Date.now;
  return async (ctx) => {
    const { task, run } = ctx;
    const state = await deps.statuses.getState(task.id);
    const outcome = task.metadata.probe
      ? await probeOutcome(deps, ctx, state.lastSuccessAt, now)
      : await fluxOutcome(deps, ctx, now);
    const stamp = new Date(now()).toISOString();
    const status: CheckStatus = {
      time: stamp,
      recordedAt: stamp,
      checkID: task.id,
      checkName: task.name,
      level: outcome.level,
      previousLevel: state.lastLevel,
      message: outcome.message,
      value: outcome.value,
      error: outcome.error,
      tags: task.metadata.tags,
      runID: run.runID,
    };
    await deps.statuses.write(task.orgID, status);
    await deps.statuses.setState(task.id, { lastLevel: outcome.level, lastSuccessAt: outcome.lastSuccessAt });
    const was = state.lastLevel && state.lastLevel !== outcome.level ? ` (was ${state.lastLevel})` : '';
    ctx.log(`status ${outcome.level}${was}: ${outcome.message}`);
  };
}

/** Rota's HTTP probe: a failing probe is a status to report, never a failed run. */
async function probeOutcome(
  deps: CheckRunnerDeps,
  { task, signal, log: rawLog }: RunArgs,
  previousSuccessAt: string | undefined,
  now: () => number,
): Promise<Outcome> {
  const check = task.metadata;
  const spec = check.probe as Probe;
  const opened = spec.headers
    ? await openHeaders(spec.headers, deps.secrets)
    : { headers: undefined, secrets: [] };
  // A probe error can quote what it sent: credentials never reach a status or a log.
  const scrub = scrubber(opened.secrets);
  const raw = await probe({ ...spec, headers: opened.headers }, deps.policy, signal);
  const result = raw.error ? { ...raw, error: scrub(raw.error) } : raw;
  if (result.error) rawLog(scrub(result.error));
  const at = now();
  const lastSuccessAt = result.ok ? new Date(at).toISOString() : previousSuccessAt;
  const level = levelOf(check, result, lastSuccessAt, task.createdAt, at);
  return {
    level,
    value: result.value,
    error: result.error,
    message: statusMessage(task, level, result),
    lastSuccessAt,
  };
}

/** How long a check's Flux query may take: InfluxDB runs checks as tasks, and so does Rota. */
const FLUX_CHECK_TIMEOUT_MS = 30_000;

/**
 * InfluxDB's check: its query's Flux, with the UI's `v.timeRangeStart` set to the window
 * the check looks at (the interval, or a deadman's staleTime), run on the operator's
 * InfluxDB at the run's instant. A query that fails fails the run, as in InfluxDB.
 */
async function fluxOutcome(
  deps: CheckRunnerDeps,
  { task, run, signal, log }: RunArgs,
  now: () => number,
): Promise<Outcome> {
  const check = task.metadata;
  const { connection, policy } = await deploymentConnection(deps.influx, deps.policy, 'Flux checks');
  const script = withCheckWindow(check.query?.text ?? '', fluxWindow(task));
  let verdict: SeriesVerdict;
  try {
    const series = await queryFluxSeries(
      connection,
      { script, now: run.scheduledFor, signal, timeoutMs: FLUX_CHECK_TIMEOUT_MS },
      policy,
    );
    log(`Flux query -> ${series.length} series, ${series.reduce((n, s) => n + s.points.length, 0)} values`);
    const at = now();
    verdict =
      check.kind === 'threshold'
        ? thresholdVerdict(check.thresholds, series)
        : deadmanVerdict(
            {
              level: check.level,
              timeSinceMs: parseDurationMs(check.timeSince),
              staleTimeMs: check.staleTime === undefined ? undefined : parseDurationMs(check.staleTime),
              reportZero: check.reportZero,
            },
            series,
            at,
          );
  } catch (error) {
    if (signal.aborted) throw error;
    const message = error instanceof Error ? error.message : String(error);
    const status = error instanceof FluxQueryError && error.status ? ` (HTTP ${error.status})` : '';
    log(`Flux query failed${status}: ${message}`);
    throw new Error(`flux query failed: ${message}`);
  }
  const message = renderTemplate(
    check.statusMessageTemplate,
    templateContext(task, verdict.level, verdict.value, undefined),
  );
  return { level: verdict.level, value: verdict.value, message, lastSuccessAt: undefined };
}

/** The time range a check's query covers: its interval, or for a deadman its staleTime (else timeSince). */
function fluxWindow(task: CheckTask): { start: string; windowPeriod: string } {
  const check = task.metadata;
  const every = task.every ?? '1m';
  const start = check.kind === 'deadman' ? (check.staleTime ?? check.timeSince) : every;
  return { start: `-${start}`, windowPeriod: every };
}

/**
 * The UI's queries read the dashboard variables `v.timeRangeStart`, `v.timeRangeStop` and
 * `v.windowPeriod`; InfluxDB sets them for a check's task. A script that declares `v`
 * itself is left as it is.
 */
export function withCheckWindow(text: string, window: { start: string; windowPeriod: string }): string {
  if (!/\bv\.(timeRangeStart|timeRangeStop|windowPeriod)\b/.test(text) || /\boption\s+v\s*=/.test(text)) {
    return text;
  }
  return `option v = {timeRangeStart: ${window.start}, timeRangeStop: now(), windowPeriod: ${window.windowPeriod}}\n${text}`;
}
