import * as z from 'zod';
import { InvalidError } from '../../errors';
import { pagingQuery } from '../../http/paging';
import { bodyOf, param, queryOf } from '../../http/request';
import { json, noContent } from '../../http/response';
import { created, deleted, named, ok, type RouteDef, type RouteOf } from '../../http/route';
import { withCompletionsAll } from '../../task/completions';
import type { Task, TaskDefinition } from '../../task/model';
import { taskDefinitionFields } from '../../task/model';
import type { Access, ScopedTaskService } from '../../task/task-service';
import type { AttachedLabels, LabelJson } from '../labels/mapping-routes';
import { offsetLinks, offsetPaging, pageByOffset } from '../shared/offset-paging';
import { orgListQuery, orgOf } from '../shared/org';
import { replacementPatch, splitPatch } from '../shared/patch';
import {
  readOnlyTaskFields,
  scheduleExtraFields,
  scheduleExtraPatchFields,
  scheduleExtrasOf,
} from '../shared/task-fields';
import type { NotificationEndpoint } from './endpoint-model';
import type { EndpointStore } from './endpoint-store';
import type { NotificationLogStore } from './log-store';
import { notificationLogSchema, ruleSchema, rulesSchema } from './responses';
import { type RuleMetadata, statusRuleSchema, tagRuleSchema } from './rule-model';

export const RULES_BASE_PATH = '/api/v2/notificationRules';

type Rule = Task & { metadata: RuleMetadata };

const logQuery = z.object({ limit: pagingQuery.limit });

/**
 * Fields InfluxDB's clients send back with a rule they read, or that Rota does not use
 * (sleepUntil, limit and limitEvery throttle in InfluxDB; Rota dedups per status):
 * accepted and ignored.
 */
const ignoredRuleFields = {
  ...readOnlyTaskFields,
  sleepUntil: z.string().optional(),
  limit: z.number().int().optional(),
  limitEvery: z.number().int().optional(),
  url: z.string().optional(),
  parseMode: z.enum(['MarkdownV2', 'HTML', 'Markdown']).optional(),
  disableWebPagePreview: z.boolean().optional(),
};

export const ruleCreateBody = z.strictObject({
  ...ignoredRuleFields,
  orgID: taskDefinitionFields.orgID.optional(),
  name: z.string(),
  description: taskDefinitionFields.description,
  status: taskDefinitionFields.status,
  every: z.string(),
  offset: z.string().optional(),
  ...scheduleExtraFields,
  endpointID: z.string().min(1).max(64),
  statusRules: z.array(statusRuleSchema),
  tagRules: z.array(tagRuleSchema).optional(),
  messageTemplate: z.string().optional(),
  channel: z.string().max(256).optional(),
  runbookLink: z.string().max(2048).optional(),
  /** InfluxDB sends the endpoint's type; Rota reads it from the endpoint. */
  type: z.enum(['http', 'slack', 'pagerduty', 'telegram']).optional(),
});

export const ruleUpdateBody = z.strictObject({
  name: z.string().optional(),
  description: z.string().optional(),
  status: taskDefinitionFields.status,
  every: z.string().optional(),
  offset: z.string().nullable().optional(),
  ...scheduleExtraPatchFields,
  endpointID: z.string().min(1).max(64).optional(),
  statusRules: z.array(statusRuleSchema).optional(),
  tagRules: z.array(tagRuleSchema).optional(),
  messageTemplate: z.string().optional(),
  channel: z.string().max(256).optional(),
  runbookLink: z.string().max(2048).optional(),
});

/** The endpoint a rule names: one of the rule's org that the caller may see, else a 400. */
async function endpointFor(
  endpoints: EndpointStore,
  access: Access,
  orgID: string,
  id: string,
): Promise<NotificationEndpoint> {
  const endpoint = await endpoints.get(id);
  const visible =
    endpoint && endpoint.orgID === orgID && (access.orgID === undefined || access.orgID === endpoint.orgID);
  if (!visible) throw new InvalidError(`unknown endpointID ${id}`);
  return endpoint;
}

export function toRuleJson(
  rule: Rule,
  endpointType: string | undefined,
  labels: LabelJson[] = [],
): z.input<typeof ruleSchema> {
  const self = `${RULES_BASE_PATH}/${rule.id}`;
  return {
    id: rule.id,
    taskID: rule.id,
    orgID: rule.orgID,
    name: rule.name,
    description: rule.description,
    status: rule.status,
    type: endpointType,
    every: rule.every,
    offset: rule.offset,
    ...scheduleExtrasOf(rule),
    endpointID: rule.metadata.endpointID,
    statusRules: rule.metadata.statusRules,
    tagRules: rule.metadata.tagRules,
    messageTemplate: rule.metadata.messageTemplate,
    channel: rule.metadata.channel,
    runbookLink: rule.metadata.runbookLink,
    labels,
    latestCompleted: rule.latestCompleted,
    lastRunStatus: rule.lastRunStatus,
    lastRunError: rule.lastRunError,
    createdAt: rule.createdAt,
    updatedAt: rule.updatedAt,
    links: { self, log: `${self}/log`, runs: `${self}/runs` },
  };
}

function toRuleDefinition(body: z.output<typeof ruleCreateBody>, orgID: string): TaskDefinition {
  return {
    orgID,
    name: body.name,
    description: body.description,
    status: body.status,
    every: body.every,
    offset: body.offset,
    ...scheduleExtrasOf(body),
    // The read cursor is per rule: one run at a time keeps it consistent.
    concurrency: 1,
    catchUp: 'latest',
    metadata: {
      endpointID: body.endpointID,
      statusRules: body.statusRules,
      tagRules: body.tagRules,
      messageTemplate: body.messageTemplate,
      channel: body.channel,
      runbookLink: body.runbookLink,
    },
  } as TaskDefinition;
}

/** What every notification rules route shares. */
interface RuleRoutesContext {
  readonly rules: ScopedTaskService<RuleMetadata>;
  readonly endpoints: EndpointStore;
  readonly log: NotificationLogStore;
  readonly labels: AttachedLabels;
}

type RuleRoute = RouteOf<RuleRoutesContext>;

const createRule: RuleRoute = ({ rules, endpoints }) => ({
  method: 'POST',
  path: RULES_BASE_PATH,
  summary: 'Create a notification rule',
  body: named('NotificationRuleCreateRequest', ruleCreateBody),
  responses: created('The notification rule', ruleSchema),
  handler: async (req) => {
    const body = bodyOf(req, ruleCreateBody, 'invalid notification rule');
    const orgID = orgOf(req, body.orgID);
    const endpoint = await endpointFor(endpoints, req.access, orgID, body.endpointID);
    const rule = await rules.create(req.access, toRuleDefinition(body, orgID));
    return json(201, toRuleJson(rule, endpoint.type));
  },
});

const ruleListQuery = z.object({ ...offsetPaging, orgID: orgListQuery.shape.orgID });

/** Each rule's endpoint type, which InfluxDB's rule carries: one read per endpoint the page names. */
async function endpointTypes(endpoints: EndpointStore, rules: readonly Rule[]): Promise<Map<string, string>> {
  const ids = [...new Set(rules.map((r) => r.metadata.endpointID))];
  const found = await Promise.all(ids.map(async (id) => [id, (await endpoints.get(id))?.type] as const));
  return new Map(
    found.filter((entry): entry is readonly [string, NotificationEndpoint['type']] => !!entry[1]),
  );
}

const listRules: RuleRoute = ({ rules, endpoints, labels }) => ({
  method: 'GET',
  path: RULES_BASE_PATH,
  summary: 'List notification rules',
  query: ruleListQuery,
  responses: ok('Notification rules', rulesSchema),
  handler: async (req) => {
    const query = queryOf(req, ruleListQuery);
    const orgID = orgOf(req, query.orgID);
    const page = await pageByOffset(async (after, limit) => {
      const { tasks, more } = await rules.list(req.access, { orgID, after, limit });
      return { items: tasks, more };
    }, query);
    const [types, labelsOf] = await Promise.all([
      endpointTypes(endpoints, page.items),
      page.items.length ? labels.forList(orgID) : () => [],
    ]);
    return json(200, {
      notificationRules: (await withCompletionsAll(rules, page.items)).map((r) =>
        toRuleJson(r, types.get(r.metadata.endpointID), labelsOf(r.id)),
      ),
      links: offsetLinks(RULES_BASE_PATH, { orgID }, query, page.more),
    });
  },
});

const getRule: RuleRoute = ({ rules, endpoints, labels }) => ({
  method: 'GET',
  path: `${RULES_BASE_PATH}/{id}`,
  summary: 'Get a notification rule',
  responses: ok('The notification rule', ruleSchema),
  handler: async (req) => {
    const rule = await rules.withCompletions(await rules.get(req.access, param(req, 'id')));
    const [endpoint, attached] = await Promise.all([
      endpoints.get(rule.metadata.endpointID),
      labels.of(rule.orgID, rule.id),
    ]);
    return json(200, toRuleJson(rule, endpoint?.type, attached));
  },
});

const updateRule: RuleRoute = ({ rules, endpoints, labels }) => ({
  method: 'PATCH',
  path: `${RULES_BASE_PATH}/{id}`,
  summary: 'Update a notification rule',
  body: named('NotificationRuleUpdateRequest', ruleUpdateBody),
  responses: ok('The notification rule', ruleSchema),
  handler: async (req) => {
    const body = bodyOf(req, ruleUpdateBody, 'invalid notification rule update');
    const id = param(req, 'id');
    const current = await rules.get(req.access, id);
    if (body.endpointID) await endpointFor(endpoints, req.access, current.orgID, body.endpointID);
    const rule = await rules.withCompletions(await rules.update(req.access, id, splitPatch(body)));
    const [endpoint, attached] = await Promise.all([
      endpoints.get(rule.metadata.endpointID),
      labels.of(rule.orgID, rule.id),
    ]);
    return json(200, toRuleJson(rule, endpoint?.type, attached));
  },
});

/** InfluxDB's PUT: the whole rule, as a create body; what it leaves out is cleared. */
const replaceRule: RuleRoute = ({ rules, endpoints, labels }) => ({
  method: 'PUT',
  path: `${RULES_BASE_PATH}/{id}`,
  summary: 'Replace a notification rule',
  body: named('NotificationRuleCreateRequest', ruleCreateBody),
  responses: ok('The notification rule', ruleSchema),
  handler: async (req) => {
    const body = bodyOf(req, ruleCreateBody, 'invalid notification rule');
    const id = param(req, 'id');
    const current = await rules.get(req.access, id);
    const endpoint = await endpointFor(endpoints, req.access, current.orgID, body.endpointID);
    const next = toRuleDefinition(body, current.orgID);
    const rule = await rules.update(req.access, id, replacementPatch(next));
    return json(
      200,
      toRuleJson(await rules.withCompletions(rule), endpoint.type, await labels.of(rule.orgID, rule.id)),
    );
  },
});

const deleteRule: RuleRoute = ({ rules }) => ({
  method: 'DELETE',
  path: `${RULES_BASE_PATH}/{id}`,
  summary: 'Delete a notification rule',
  responses: deleted,
  handler: async (req) => {
    await rules.delete(req.access, param(req, 'id'));
    return noContent();
  },
});

const ruleLog: RuleRoute = ({ rules, log }) => ({
  method: 'GET',
  path: `${RULES_BASE_PATH}/{id}/log`,
  summary: "A rule's notification log",
  query: logQuery,
  responses: ok('Notification log', notificationLogSchema),
  handler: async (req) => {
    const { limit } = queryOf(req, logQuery);
    const rule = await rules.get(req.access, param(req, 'id'));
    return json(200, {
      log: await log.list(rule.id, limit),
      links: { self: `${RULES_BASE_PATH}/${rule.id}/log` },
    });
  },
});

const RULE_ROUTES: readonly RuleRoute[] = [
  createRule,
  listRules,
  getRule,
  updateRule,
  replaceRule,
  deleteRule,
  ruleLog,
];

/** The notification rules system's HTTP translation. */
export function ruleRoutes(
  rules: ScopedTaskService<RuleMetadata>,
  endpoints: EndpointStore,
  log: NotificationLogStore,
  labels: AttachedLabels,
): RouteDef[] {
  return RULE_ROUTES.map((route) => route({ rules, endpoints, log, labels }));
}
