import * as z from 'zod';
import { statusLevelSchema } from '../checks/model';
import { defineSystem } from '../system';

/** InfluxDB's RuleStatusLevel: a check level, UNKNOWN, or ANY. */
export const ruleLevelSchema = z.union([statusLevelSchema, z.literal('ANY')]);

export const statusRuleSchema = z.strictObject({
  currentLevel: ruleLevelSchema,
  /** Set to fire only on a change, e.g. OK → CRIT; ANY: a change from any other level. */
  previousLevel: ruleLevelSchema.optional(),
  /** InfluxDB's fields, kept and returned; InfluxDB's own rules do not evaluate them either. */
  count: z.number().int().min(0).optional(),
  period: z.string().max(64).optional(),
});

export const tagRuleSchema = z.strictObject({
  key: z.string().min(1).max(128),
  value: z.string().max(256),
  operator: z.enum(['equal', 'notequal']).default('equal'),
});

export const ruleMetadataSchema = z.strictObject({
  endpointID: z.string().min(1).max(64),
  statusRules: z.array(statusRuleSchema).min(1, 'a rule needs at least one status rule').max(20),
  tagRules: z.array(tagRuleSchema).max(20).default([]),
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a message template, rendered per notification
  messageTemplate: z.string().min(1).max(4096).default('${check.name} is ${level}: ${message}'),
  /** InfluxDB's per-type rule fields (Slack's channel, a runbook link), kept for its clients. */
  channel: z.string().max(256).optional(),
  runbookLink: z.string().max(2048).optional(),
});
export type RuleMetadata = z.infer<typeof ruleMetadataSchema>;

/** Notification rules, as InfluxDB builds them on its task system: one task per rule. */
export const notificationRulesSystem = defineSystem<RuleMetadata>({
  type: 'notification',
  metadata: ruleMetadataSchema,
});

export interface NotificationLogEntry {
  time: string;
  ruleID: string;
  runID: string;
  checkID: string;
  checkName: string;
  level: string;
  previousLevel?: string | undefined;
  statusTime: string;
  endpointID: string;
  endpointName: string;
  endpointType: string;
  message: string;
  outcome: 'sending' | 'sent' | 'failed';
  httpStatus?: number | undefined;
  error?: string | undefined;
}
