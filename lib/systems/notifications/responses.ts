import * as z from 'zod';
import { named } from '../../http/route';
import { taskStatusSchema } from '../../task/model';
import { labelSchema } from '../labels/model';
import { offsetLinksSchema } from '../shared/offset-paging';
import { scheduleExtraResponseFields, taskIdentityFields, taskRunStateFields } from '../shared/task-fields';
import { statusRuleSchema, tagRuleSchema } from './rule-model';

const optionalString = z.string().optional();

export const ruleSchema = named(
  'NotificationRule',
  z.object({
    ...taskIdentityFields,
    /** The endpoint's type (absent only when the endpoint is gone). */
    type: optionalString,
    every: optionalString,
    offset: optionalString,
    ...scheduleExtraResponseFields,
    endpointID: z.string(),
    statusRules: z.array(statusRuleSchema),
    tagRules: z.array(tagRuleSchema).optional(),
    messageTemplate: optionalString,
    channel: optionalString,
    runbookLink: optionalString,
    /** The labels attached to it (lib/systems/labels). */
    labels: z.array(labelSchema),
    ...taskRunStateFields,
    links: z.object({ self: z.string(), log: z.string(), runs: z.string() }),
  }),
);

export const rulesSchema = named(
  'NotificationRules',
  z.object({ notificationRules: z.array(ruleSchema), links: offsetLinksSchema }),
);

export const notificationLogSchema = named(
  'NotificationLog',
  z.object({
    log: z.array(
      z.object({
        time: z.string(),
        ruleID: z.string(),
        runID: z.string(),
        checkID: z.string(),
        checkName: z.string(),
        level: z.string(),
        previousLevel: optionalString,
        statusTime: z.string(),
        endpointID: z.string(),
        endpointName: z.string(),
        endpointType: z.string(),
        message: z.string(),
        outcome: z.enum(['sending', 'sent', 'failed']),
        httpStatus: z.number().int().optional(),
      }),
    ),
    links: z.object({ self: z.string() }),
  }),
);

/**
 * A notification endpoint: the fields of its type (http, slack, pagerduty) with every
 * credential redacted. One whose stored form cannot be read is listed `unreadable`.
 */
export const endpointSchema = named(
  'NotificationEndpoint',
  z.looseObject({
    id: z.string(),
    orgID: z.string(),
    type: z.enum(['http', 'slack', 'pagerduty', 'telegram']),
    name: z.string(),
    status: taskStatusSchema,
    description: optionalString,
    createdAt: optionalString,
    updatedAt: optionalString,
    version: z.number().int().optional(),
    unreadable: z.literal(true).optional(),
    labels: z.array(labelSchema).optional(),
    links: z.object({ self: z.string() }),
  }),
);

export const endpointsSchema = named(
  'NotificationEndpoints',
  z.object({ notificationEndpoints: z.array(endpointSchema), links: offsetLinksSchema }),
);
