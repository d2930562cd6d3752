import { type SecretBox, scrubber } from '../../auth/secrets';
import type { TargetPolicy } from '../../net/address-policy';
import { safeRequest } from '../../net/safe-http';
import type { CheckStatus } from '../checks/model';
import type { StatusStore } from '../checks/status-store';
import { renderTemplate } from '../shared/template';
import type { Runner } from '../system';
import { openEndpoint } from './endpoint-secrets';
import type { EndpointStore } from './endpoint-store';
import { formatNotification } from './format';
import type { NotificationLogStore } from './log-store';
import type { RuleMetadata } from './rule-model';

/** Statuses can become visible in the index slightly out of write order; re-read this far back and let dedup skip repeats. */
const OVERLAP_MS = 60_000;
const MAX_STATUSES_PER_RUN = 1000;
const SEND_TIMEOUT_MS = 10_000;

export function tagRulesMatch(rules: RuleMetadata['tagRules'], tags: Record<string, string>): boolean {
  return rules.every((rule) =>
    rule.operator === 'equal' ? tags[rule.key] === rule.value : tags[rule.key] !== rule.value,
  );
}

export function statusRulesMatch(rules: RuleMetadata['statusRules'], status: CheckStatus): boolean {
  return rules.some(
    (rule) =>
      rule.currentLevel === status.level &&
      (rule.previousLevel === undefined || rule.previousLevel === status.previousLevel),
  );
}

/**
 * A rule run: read the org's statuses written since the rule's cursor, keep those
 * whose check tags and level transition match, and send one message per match to
 * the endpoint, each recorded in the notification log under a dedup key.
 */
export function createRuleRunner(deps: {
  statuses: StatusStore;
  endpoints: EndpointStore;
  log: NotificationLogStore;
  policy: TargetPolicy;
  /** Opens the endpoint's sealed credentials. @default the box the environment configures */
  secrets: SecretBox;
  now?: () => number;
}): Runner<RuleMetadata> {
  const now = deps.now ?? Date.now;
  const box = deps.secrets;
  return async ({ task, run, signal, log: rawLog }) => {
    const rule = task.metadata;
    const stored = await deps.endpoints.get(rule.endpointID);
    if (!stored || stored.orgID !== task.orgID) {
      throw new Error(`notification endpoint ${rule.endpointID} not found`);
    }
    const { endpoint, secrets } = await openEndpoint(stored, box);
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

    let sent = 0;
    let failed = 0;
    let oldestFailure: string | undefined;
    for (const status of matches) {
      const message = renderTemplate(rule.messageTemplate, {
        rule: { id: task.id, name: task.name },
        check: { id: status.checkID, name: status.checkName },
        level: status.level,
        previousLevel: status.previousLevel ?? '',
        message: status.message,
        value: status.value ?? '',
        tags: status.tags,
        time: status.time,
      });
      const entry = {
        time: new Date(now()).toISOString(),
        ruleID: task.id,
        runID: run.runID,
        checkID: status.checkID,
        checkName: status.checkName,
        level: status.level,
        previousLevel: status.previousLevel,
        statusTime: status.time,
        endpointID: endpoint.id,
        endpointName: endpoint.name,
        endpointType: endpoint.type,
        message,
        outcome: 'sending' as const,
      };
      if (!(await deps.log.claim(entry, status.runID))) continue;
      const request = formatNotification(endpoint, { ruleID: task.id, ruleName: task.name, status, message });
      try {
        const response = await safeRequest(
          { ...request, signal, timeoutMs: SEND_TIMEOUT_MS, maxBodyBytes: 1024 },
          deps.policy,
        );
        const ok = response.status >= 200 && response.status < 300;
        await deps.log.settle(entry, status.runID, {
          outcome: ok ? 'sent' : 'failed',
          httpStatus: response.status,
          error: ok ? undefined : `endpoint answered HTTP ${response.status}`,
        });
        if (!ok) throw new Error(`endpoint answered HTTP ${response.status}`);
        sent++;
        log(
          `sent ${status.level} for check ${status.checkName} to ${endpoint.type} endpoint ${endpoint.name} (HTTP ${response.status})`,
        );
      } catch (error) {
        failed++;
        oldestFailure =
          oldestFailure && oldestFailure < status.recordedAt ? oldestFailure : status.recordedAt;
        const reason = scrub((error as Error).message);
        await deps.log
          .settle(entry, status.runID, { outcome: 'failed', error: reason })
          .catch(() => undefined);
        log(`failed to notify ${endpoint.name} for check ${status.checkName}: ${reason}`);
      }
    }

    // Never move the cursor past a failed send, so a retry of this run tries it again.
    const newest = statuses.at(-1)?.recordedAt ?? cursor;
    const next = oldestFailure
      ? new Date(Math.min(Date.parse(newest), Date.parse(oldestFailure) - 1)).toISOString()
      : newest;
    if (next > cursor) await deps.log.setCursor(task.id, next);
    log(`${statuses.length} status(es) read, ${matches.length} matched, ${sent} sent, ${failed} failed`);
    if (failed) throw new Error(`${failed} of ${matches.length} notification(s) failed`);
  };
}
