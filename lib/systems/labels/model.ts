import * as z from 'zod';
import { named } from '../../http/route';

/** Label names and property values are short texts; the caps keep a name inside a key. */
const MAX_NAME = 128;
const MAX_PROPERTIES = 32;

const properties = z
  .record(z.string().min(1).max(128), z.string().max(1024))
  .refine((p) => Object.keys(p).length <= MAX_PROPERTIES, {
    message: `at most ${MAX_PROPERTIES} properties`,
  });

const labelName = z.string().trim().min(1, 'name is required').max(MAX_NAME);

export const labelCreateBody = named(
  'LabelCreateRequest',
  z.object({ orgID: z.string().min(1).max(64), name: labelName, properties: properties.optional() }),
);

/** InfluxDB's update: a property sent as `""` is removed. */
export const labelUpdateBody = named(
  'LabelUpdate',
  z.object({ name: labelName.optional(), properties: properties.optional() }),
);

export const labelMappingBody = named('LabelMapping', z.object({ labelID: z.string().min(1).max(64) }));

export interface Label {
  id: string;
  orgID: string;
  name: string;
  properties: Record<string, string>;
  version: number;
}

/** The label shown on a resource and in the labels API. */
export const labelSchema = named(
  'Label',
  z.object({
    id: z.string(),
    orgID: z.string(),
    name: z.string(),
    properties: z.record(z.string(), z.string()),
  }),
);

const links = z.object({ self: z.string() });

export const labelResponseSchema = named('LabelResponse', z.object({ label: labelSchema, links }));
export const labelsResponseSchema = named(
  'LabelsResponse',
  z.object({ labels: z.array(labelSchema), links }),
);

export const toLabelJson = ({ id, orgID, name, properties }: Label) => ({ id, orgID, name, properties });

/** Properties after an update: the given ones over the stored, `""` removing one. */
export function mergeProperties(
  current: Record<string, string>,
  update: Record<string, string> | undefined,
): Record<string, string> {
  const merged = { ...current, ...update };
  return Object.fromEntries(Object.entries(merged).filter(([, value]) => value !== ''));
}
