import { can } from '../../auth/model';
import { ForbiddenError, NotFoundError } from '../../errors';
import { type ApiRequest, bodyOf, param } from '../../http/request';
import { json, noContent } from '../../http/response';
import { created, deleted, ok, type RouteDef } from '../../http/route';
import type { Access } from '../../task/task-service';
import { labelAnswer, loadLabel } from './http';
import type { LabelledKind, LabelStore } from './label-store';
import {
  type Label,
  labelMappingBody,
  labelResponseSchema,
  labelsResponseSchema,
  toLabelJson,
} from './model';

/** The labels permission: the resource a token needs to read labels, wherever they are shown. */
export const LABELS_RESOURCE = 'labels';

/** A resource labels attach to, as its own API serves it. */
export interface LabelledResource {
  readonly kind: LabelledKind;
  /** Its API's base path: `/api/v2/tasks`. */
  readonly basePath: string;
  /** The resource the caller may see, or a `not found` error: the same check its GET makes. */
  readonly load: (access: Access, id: string) => Promise<{ orgID: string }>;
}

/** Labels are read with the labels permission, on top of the resource's own (the API checks that). */
function checkReadsLabels(req: ApiRequest): void {
  if (req.caller && !can(req.caller, 'read', LABELS_RESOURCE)) {
    throw new ForbiddenError(`token lacks read permission on ${LABELS_RESOURCE}`);
  }
}

/**
 * InfluxDB's `…/{id}/labels` routes of one resource, served by the resource's own API:
 * attaching or detaching is a write on the resource, so that API's permission check
 * is the one InfluxDB makes; reading the label needs the labels permission too.
 */
export function labelMappingRoutes(resource: LabelledResource, labels: LabelStore): RouteDef[] {
  const path = `${resource.basePath}/{id}/labels`;
  return [
    {
      method: 'GET',
      path,
      summary: 'List the labels attached to it',
      responses: ok('Its labels', labelsResponseSchema),
      handler: async (req) => {
        checkReadsLabels(req);
        const id = param(req, 'id');
        const { orgID } = await resource.load(req.access, id);
        const found = await labels.labelsOf(orgID, resource.kind, id);
        return json(200, {
          labels: found.map(toLabelJson),
          links: { self: `${resource.basePath}/${id}/labels` },
        });
      },
    },
    {
      method: 'POST',
      path,
      summary: 'Attach a label of its org',
      body: labelMappingBody,
      responses: created('The label', labelResponseSchema),
      handler: async (req) => {
        checkReadsLabels(req);
        const { labelID } = bodyOf(req, labelMappingBody, 'invalid label mapping');
        const id = param(req, 'id');
        const { orgID } = await resource.load(req.access, id);
        const label = await loadLabel(labels, req.access, labelID);
        // Another org's label is not found from here, as it is for that org's strangers.
        if (label.orgID !== orgID) throw new NotFoundError('label not found');
        await labels.attach(orgID, resource.kind, id, label.id);
        return json(201, labelAnswer(label));
      },
    },
    {
      method: 'DELETE',
      path: `${path}/{labelID}`,
      summary: 'Detach a label',
      responses: deleted,
      handler: async (req) => {
        const id = param(req, 'id');
        const { orgID } = await resource.load(req.access, id);
        if (!(await labels.detach(orgID, resource.kind, id, param(req, 'labelID')))) {
          throw new NotFoundError('label mapping not found');
        }
        return noContent();
      },
    },
  ];
}

/** A label as a resource shows it in its `labels` field. */
export type LabelJson = ReturnType<typeof toLabelJson>;

/** What a resource's GET and list show in its `labels` field. */
export interface AttachedLabels {
  of(orgID: string, id: string): Promise<LabelJson[]>;
  /** The labels of every resource of the org, read once for a whole list page. */
  forList(orgID: string): Promise<(id: string) => LabelJson[]>;
  /** The same for a page that may span orgs (the operator's): each org's labels read once. */
  forPage(page: readonly { orgID: string }[]): Promise<(id: string) => LabelJson[]>;
}

export function attachedLabels(labels: LabelStore, kind: LabelledKind): AttachedLabels {
  const shown = (found: Label[] | undefined) => (found ?? []).map(toLabelJson);
  return {
    of: async (orgID, id) => shown(await labels.labelsOf(orgID, kind, id)),
    forList: async (orgID) => {
      const byResource = await labels.labelsByResource(orgID, kind);
      return (id) => shown(byResource.get(id));
    },
    forPage: async (page) => {
      const orgs = [...new Set(page.map((resource) => resource.orgID))];
      const byOrg = await Promise.all(orgs.map((orgID) => labels.labelsByResource(orgID, kind)));
      // Ids are unique across orgs, so at most one org's map holds a resource.
      return (id) => shown(byOrg.find((byResource) => byResource.has(id))?.get(id));
    },
  };
}
