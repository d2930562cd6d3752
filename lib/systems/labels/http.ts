import { ulid } from 'ulid';
import * as z from 'zod';
import { ConflictError, ForbiddenError, NotFoundError } from '../../errors';
import { type ApiRequest, bodyOf, param, queryOf } from '../../http/request';
import { json, noContent } from '../../http/response';
import { created, deleted, ok, type RouteDef, type RouteOf } from '../../http/route';
import type { Access } from '../../task/task-service';
import { orgOf } from '../shared/org';
import type { LabelStore, NameOutcome } from './label-store';
import {
  type Label,
  labelCreateBody,
  labelResponseSchema,
  labelsResponseSchema,
  labelUpdateBody,
  mergeProperties,
  toLabelJson,
} from './model';

export const LABELS_BASE_PATH = '/api/v2/labels';

/** The org a request names; an org token may name only its own. */
function ownOrg(req: ApiRequest, given: string | undefined): string {
  const orgID = orgOf(req, given);
  if (req.access.orgID !== undefined && req.access.orgID !== orgID) {
    throw new ForbiddenError('orgID does not match the caller');
  }
  return orgID;
}

/** A label the caller may see: another org's is not found, as InfluxDB answers. */
export async function loadLabel(labels: LabelStore, access: Access, id: string): Promise<Label> {
  const label = await labels.get(id);
  if (!label || (access.orgID !== undefined && access.orgID !== label.orgID)) {
    throw new NotFoundError('label not found');
  }
  return label;
}

export const labelAnswer = (label: Label) => ({
  label: toLabelJson(label),
  links: { self: `${LABELS_BASE_PATH}/${label.id}` },
});

function checkOutcome(outcome: NameOutcome, name: string): void {
  if (outcome === 'name taken') throw new ConflictError(`label with name ${name} already exists`);
  if (outcome === 'changed') throw new ConflictError('label was changed concurrently; read it again');
}

type LabelRoute = RouteOf<{ labels: LabelStore }>;

const createLabel: LabelRoute = ({ labels }) => ({
  method: 'POST',
  path: LABELS_BASE_PATH,
  summary: 'Create a label',
  body: labelCreateBody,
  responses: created('The label', labelResponseSchema),
  handler: async (req) => {
    const body = bodyOf(req, labelCreateBody, 'invalid label');
    const label: Label = {
      id: ulid().toLowerCase(),
      orgID: ownOrg(req, body.orgID),
      name: body.name,
      properties: mergeProperties({}, body.properties),
      version: 1,
    };
    checkOutcome(await labels.create(label), label.name);
    return json(201, labelAnswer(label));
  },
});

const labelListQuery = z.object({ orgID: z.string().min(1).max(64).optional() });

const listLabels: LabelRoute = ({ labels }) => ({
  method: 'GET',
  path: LABELS_BASE_PATH,
  summary: "List an org's labels (the operator without orgID: every org's)",
  query: labelListQuery,
  responses: ok('Labels', labelsResponseSchema),
  handler: async (req) => {
    const given = queryOf(req, labelListQuery).orgID;
    // The operator without an org lists every org's labels, as InfluxDB does.
    if (given === undefined && req.access.orgID === undefined) {
      const everywhere = await labels.listEverywhere();
      return json(200, { labels: everywhere.map(toLabelJson), links: { self: LABELS_BASE_PATH } });
    }
    const orgID = ownOrg(req, given);
    const found = await labels.list(orgID);
    return json(200, {
      labels: found.map(toLabelJson),
      links: { self: `${LABELS_BASE_PATH}?orgID=${encodeURIComponent(orgID)}` },
    });
  },
});

const getLabel: LabelRoute = ({ labels }) => ({
  method: 'GET',
  path: `${LABELS_BASE_PATH}/{id}`,
  summary: 'Get a label',
  responses: ok('The label', labelResponseSchema),
  handler: async (req) => json(200, labelAnswer(await loadLabel(labels, req.access, param(req, 'id')))),
});

const updateLabel: LabelRoute = ({ labels }) => ({
  method: 'PATCH',
  path: `${LABELS_BASE_PATH}/{id}`,
  summary: 'Update a label (a property sent as "" is removed)',
  body: labelUpdateBody,
  responses: ok('The label', labelResponseSchema),
  handler: async (req) => {
    const body = bodyOf(req, labelUpdateBody, 'invalid label update');
    const current = await loadLabel(labels, req.access, param(req, 'id'));
    const next: Label = {
      ...current,
      name: body.name ?? current.name,
      properties: mergeProperties(current.properties, body.properties),
      version: current.version + 1,
    };
    checkOutcome(await labels.replace(current, next), next.name);
    return json(200, labelAnswer(next));
  },
});

const deleteLabel: LabelRoute = ({ labels }) => ({
  method: 'DELETE',
  path: `${LABELS_BASE_PATH}/{id}`,
  summary: 'Delete a label (its attachments disappear with it)',
  responses: deleted,
  handler: async (req) => {
    const label = await loadLabel(labels, req.access, param(req, 'id'));
    if (!(await labels.remove(label))) throw new NotFoundError('label not found');
    return noContent();
  },
});

/** InfluxDB's `/api/v2/labels`. */
export function labelRoutes(labels: LabelStore): RouteDef[] {
  return [createLabel, listLabels, getLabel, updateLabel, deleteLabel].map((route) => route({ labels }));
}
