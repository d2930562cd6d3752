import { type SecretBox, scrubber } from '../../auth/secrets';
import type { TargetPolicy } from '../../net/address-policy';
import { safeRequest } from '../../net/safe-http';
import type { Task } from '../../task/model';
import type { CheckStatus } from '../checks/model';
import type { StatusStore } from '../checks/status-store';
import { renderTemplate } from '../shared/template';
import type { Runner } from '../system';
import type { NotificationEndpoint } from './endpoint-model';
import { openEndpoint } from './endpoint-secrets';
import type { EndpointStore } from './endpoint-store';
import { formatNotification } from './format';
import type { NotificationLogStore } from './log-store';
import type { NotificationLogEntry, RuleMetadata } from './rule-model';

/** Statuses can become visible in the index slightly out of write order; re-read this far back and let dedup skip repeats. */
const OVERLAP_MS = 60_000;
const MAX_STATUSES_PER_RUN = 1000;
const SEND_TIMEOUT_MS = 10_000;

export function tagRulesMatch(rules: RuleMetadata['tagRules'], tags: Record<string, string>): boolean {
  return rules.every((rule) =>
    rule.operator === 'equal' ? tags[rule.key] === rule.value : tags[rule.key] !== rule.value,
  );
}

/**
 * InfluxDB's status rules: `currentLevel` ANY matches every level; a `previousLevel`
 * asks for that transition, and ANY for a change from any other level (its
 * `stateChanges(fromLevel: "any")`).
 */
export function statusRulesMatch(rules: RuleMetadata['statusRules'], status: CheckStatus): boolean {
  return rules.some((rule) => {
    if (rule.currentLevel !== 'ANY' && rule.currentLevel !== status.level) return false;
    if (rule.previousLevel === undefined) return true;
    if (rule.previousLevel !== 'ANY') return rule.previousLevel === status.previousLevel;
    return status.previousLevel !== undefined && status.previousLevel !== status.level;
  });
}

export interface RuleRunnerDeps {
  statuses: StatusStore;
  endpoints: EndpointStore;
  log: NotificationLogStore;
  policy: TargetPolicy;
  /** Opens the endpoint's sealed credentials. */
  secrets: SecretBox;
  now?: () => number;
}

/** One rule run, its endpoint opened: what sending each matching status needs. */
interface RuleSend {
  readonly deps: RuleRunnerDeps;
  readonly now: () => number;
  readonly task: Task & { metadata: RuleMetadata };
  readonly runID: string;
  readonly endpoint: NotificationEndpoint;
  readonly signal: AbortSignal;
  /** Removes the endpoint's credentials from a line. */
  readonly scrub: (line: string) => string;
  /** The run's log, scrubbed. */
  readonly log: (line: string) => void;
}

/** The rule's endpoint with its credentials opened; an endpoint of another org is missing. */
async function openRuleEndpoint(deps: RuleRunnerDeps, task: Task & { metadata: RuleMetadata }) {
  const { endpointID } = task.metadata;
  const stored = await deps.endpoints.get(endpointID);
  if (!stored || stored.orgID !== task.orgID) {
    throw new Error(`notification endpoint ${endpointID} not found`);
  }
  return openEndpoint(stored, deps.secrets);
}

function notificationMessage(task: Task & { metadata: RuleMetadata }, status: CheckStatus): string {
  return renderTemplate(task.metadata.messageTemplate, {
    rule: { id: task.id, name: task.name },
    check: { id: status.checkID, name: status.checkName },
    level: status.level,
    previousLevel: status.previousLevel ?? '',
    message: status.message,
    value: status.value ?? '',
    tags: status.tags,
    time: status.time,
  });
}

function logEntryFor(send: RuleSend, status: CheckStatus, message: string): NotificationLogEntry {
  const { task, endpoint } = send;
  return {
    time: new Date(send.now()).toISOString(),
    ruleID: task.id,
    runID: send.runID,
    checkID: status.checkID,
    checkName: status.checkName,
    level: status.level,
    previousLevel: status.previousLevel,
    statusTime: status.time,
    endpointID: endpoint.id,
    endpointName: endpoint.name,
    endpointType: endpoint.type,
    message,
    outcome: 'sending',
  };
}

/**
 * Sends one status's notification, once: the log entry claimed under the status's dedup
 * key decides whether this run sends it (`skipped` when an earlier run did). A failed send
 * is recorded and logged, not thrown, so the run goes on to the next status.
 */
async function notify(send: RuleSend, status: CheckStatus): Promise<'sent' | 'failed' | 'skipped'> {
  const { deps, task, endpoint, log } = send;
  const message = notificationMessage(task, status);
  const entry = logEntryFor(send, status, message);
  if (!(await deps.log.claim(entry, status.runID))) return 'skipped';
  const request = formatNotification(endpoint, {
    ruleID: task.id,
    ruleName: task.name,
    channel: task.metadata.channel,
    status,
    message,
  });
  try {
    const response = await safeRequest(
      { ...request, signal: send.signal, timeoutMs: SEND_TIMEOUT_MS, maxBodyBytes: 1024 },
      deps.policy,
    );
    const ok = response.status >= 200 && response.status < 300;
    await deps.log.settle(entry, status.runID, {
      outcome: ok ? 'sent' : 'failed',
      httpStatus: response.status,
      error: ok ? undefined : `endpoint answered HTTP ${response.status}`,
    });
    if (!ok) throw new Error(`endpoint answered HTTP ${response.status}`);
    log(
      `sent ${status.level} for check ${status.checkName} to ${endpoint.type} endpoint ${endpoint.name} (HTTP ${response.status})`,
    );
    return 'sent';
  } catch (error) {
    const reason = send.scrub((error as Error).message);
    await deps.log.settle(entry, status.runID, { outcome: 'failed', error: reason }).catch(() => undefined);
    log(`failed to notify ${endpoint.name} for check ${status.checkName}: ${reason}`);
    return 'failed';
  }
}

/** Never moves the cursor past a failed send, so a retry of this run tries it again. */
function nextCursor(
  cursor: string,
  statuses: readonly CheckStatus[],
  oldestFailure: string | undefined,
): string {
  const newest = statuses.at(-1)?.recordedAt ?? cursor;
  return oldestFailure
    ? new Date(Math.min(Date.parse(newest), Date.parse(oldestFailure) - 1)).toISOString()
    : newest;
}

/**
 * A rule run: read the org's statuses written since the rule's cursor, keep those
 * whose check tags and level transition match, and send one message per match to
 * the endpoint, each recorded in the notification log under a dedup key.
 */
export function createRuleRunner(deps: RuleRunnerDeps): Runner<RuleMetadata> {
  const now = deps.now ?? Date.now;
  return async ({ task, run, signal, log: rawLog }) => {
    const rule = task.metadata;
    const { endpoint, secrets } = await openRuleEndpoint(deps, task);
    // Errors can quote the URL or headers they were sent with: scrub the credentials out.
    const scrub = scrubber(secrets);
    const log = (line: string) => rawLog(scrub(line));
    if (endpoint.status === 'inactive') {
      log(`endpoint ${endpoint.name} is inactive; nothing sent`);
      return;
    }

    const cursor = (await deps.log.cursor(task.id)) ?? task.createdAt;
    const since = new Date(Date.parse(cursor) - OVERLAP_MS).toISOString();
    const statuses = await deps.statuses.writtenSince(task.orgID, since, MAX_STATUSES_PER_RUN);
    const matches = statuses.filter(
      (s) => tagRulesMatch(rule.tagRules, s.tags) && statusRulesMatch(rule.statusRules, s),
    );

    const send: RuleSend = { deps, now, task, runID: run.runID, endpoint, signal, scrub, log };
    let sent = 0;
    let failed = 0;
    let oldestFailure: string | undefined;
    for (const status of matches) {
      const outcome = await notify(send, status);
      if (outcome === 'sent') sent++;
      if (outcome !== 'failed') continue;
      failed++;
      oldestFailure = oldestFailure && oldestFailure < status.recordedAt ? oldestFailure : status.recordedAt;
    }

    const next = nextCursor(cursor, statuses, oldestFailure);
    if (next > cursor) await deps.log.setCursor(task.id, next);
    log(`${statuses.length} status(es) read, ${matches.length} matched, ${sent} sent, ${failed} failed`);
    if (failed) throw new Error(`${failed} of ${matches.length} notification(s) failed`);
  };
}
