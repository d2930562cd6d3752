import * as z from 'zod';
import { ACTIONS, authorizationStatusSchema } from '../../auth/model';
import { named, pageLinksSchema } from '../../http/route';

/** InfluxDB's Authorization: `token` appears once, in the answer to the create. */
export const authorizationSchema = named(
  'Authorization',
  z.object({
    id: z.string(),
    token: z.string().optional(),
    status: authorizationStatusSchema,
    description: z.string(),
    orgID: z.string(),
    userID: z.string().optional(),
    permissions: z.array(
      z.object({ action: z.enum(ACTIONS), resource: z.object({ type: z.string(), orgID: z.string() }) }),
    ),
    createdAt: z.string(),
    updatedAt: z.string(),
    links: z.object({ self: z.string() }),
  }),
);

export const authorizationsSchema = named(
  'Authorizations',
  z.object({ authorizations: z.array(authorizationSchema), links: pageLinksSchema }),
);
