import { openHeaders, type SecretBox, scrubber } from '../../auth/secrets';
import type { TargetPolicy } from '../../net/address-policy';
import { safeRequest } from '../../net/safe-http';
import { parseDurationMs } from '../../schedule/duration';
import type { Task } from '../../task/model';
import { renderTemplate, valueAt } from '../shared/template';
import type { Runner } from '../system';
import { levelFor } from './evaluate';
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

/** A threshold check's failed probe says why; otherwise the check's template speaks. */
function statusMessage(task: Task & { metadata: CheckMetadata }, level: Level, result: ProbeResult): string {
  const check = task.metadata;
  if (result.error && check.kind === 'threshold') return result.error;
  return renderTemplate(check.statusMessageTemplate, {
    check: { id: task.id, name: task.name },
    level,
    value: result.value ?? '',
    tags: check.tags,
    error: result.error ?? '',
  });
}

/** A check run: probe, evaluate, write one status, remember the level for the next run. */
export function createCheckRunner(deps: CheckRunnerDeps): Runner<CheckMetadata> {
  const now = deps.now ?? Date.now;
  return async ({ task, run, signal, log: rawLog }) => {
    const check = task.metadata;
    const state = await deps.statuses.getState(task.id);
    const opened = check.probe.headers
      ? await openHeaders(check.probe.headers, deps.secrets)
      : { headers: undefined, secrets: [] };
    // A probe error can quote what it sent: credentials never reach a status or a log.
    const scrub = scrubber(opened.secrets);
    const log = (line: string) => rawLog(scrub(line));
    const raw = await probe({ ...check.probe, headers: opened.headers }, deps.policy, signal);
    const result = raw.error ? { ...raw, error: scrub(raw.error) } : raw;
    const at = now();
    const lastSuccessAt = result.ok ? new Date(at).toISOString() : state.lastSuccessAt;
    const level = levelOf(check, result, lastSuccessAt, task.createdAt, at);
    const message = statusMessage(task, level, result);
    const stamp = new Date(at).toISOString();
    const status: CheckStatus = {
      time: stamp,
      recordedAt: stamp,
      checkID: task.id,
      checkName: task.name,
      level,
      previousLevel: state.lastLevel,
      message,
      value: result.value,
      error: result.error,
      tags: check.tags,
      runID: run.runID,
    };
    await deps.statuses.write(task.orgID, status);
    await deps.statuses.setState(task.id, { lastLevel: level, lastSuccessAt });
    const was = state.lastLevel && state.lastLevel !== level ? ` (was ${state.lastLevel})` : '';
    log(`status ${level}${was}: ${message}`);
    if (result.error) log(result.error);
  };
}
