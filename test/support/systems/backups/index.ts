import * as z from 'zod';
import { runService, taskService } from '../../../../lib/composition/core';
import { pageLinks, pagingQuery } from '../../../../lib/http/paging';
import { bodyOf, param, queryOf } from '../../../../lib/http/request';
import { json, noContent } from '../../../../lib/http/response';
import { created, deleted, named, ok, pageLinksSchema, type RouteDef } from '../../../../lib/http/route';
import { runRoutes } from '../../../../lib/http/run-routes';
import { type ApiServices, MANAGES_TASKS, type RunnerServices } from '../../../../lib/systems/services';
import { defineSystem, defineSystemModule, engine } from '../../../../lib/systems/system';
import type { Task } from '../../../../lib/task/model';
import type { ScopedTaskService } from '../../../../lib/task/task-service';

/**
 * A test-only system, written as a team would write a fourth one: this folder and one
 * registry line (test/support/systems/registry.ts). Production code does not know it.
 */
export const BACKUPS_BASE_PATH = '/api/v2/backups';

const metadata = z.strictObject({ bucket: z.string().min(3), retainDays: z.number().int().positive() });
type BackupMetadata = z.infer<typeof metadata>;
export const backupSystem = defineSystem({ type: 'backup', metadata });

const createBody = z.strictObject({
  orgID: z.string().min(1).max(64),
  name: z.string().min(1),
  every: z.string(),
  bucket: z.string(),
  retainDays: z.number(),
});
const updateBody = z.strictObject({ name: z.string().min(1) });
const backupSchema = named(
  'Backup',
  z.object({ id: z.string(), orgID: z.string(), name: z.string(), every: z.string(), bucket: z.string() }),
);
const listQuery = z.object({ ...pagingQuery, orgID: z.string().min(1).max(64) });

const toJson = (task: Task & { metadata: BackupMetadata }): z.input<typeof backupSchema> => ({
  id: task.id,
  orgID: task.orgID,
  name: task.name,
  every: task.every ?? '',
  bucket: task.metadata.bucket,
});

/** What each run did, for the tests to read. */
export const backedUp: { bucket: string; runID: string }[] = [];

function backupRoutes(backups: ScopedTaskService<BackupMetadata>): RouteDef[] {
  return [
    {
      method: 'POST',
      path: BACKUPS_BASE_PATH,
      summary: 'Create a backup',
      body: createBody,
      responses: created('The backup', backupSchema),
      handler: async (req) => {
        const { bucket, retainDays, ...rest } = bodyOf(req, createBody, 'invalid backup');
        const task = await backups.create(req.access, { ...rest, metadata: { bucket, retainDays } });
        return json(201, toJson(task));
      },
    },
    {
      method: 'GET',
      path: BACKUPS_BASE_PATH,
      summary: 'List backups',
      query: listQuery,
      responses: ok('Backups', z.object({ backups: z.array(backupSchema), links: pageLinksSchema })),
      handler: async (req) => {
        const { orgID, after, limit } = queryOf(req, listQuery);
        const page = await backups.list(req.access, { orgID, after, limit });
        const links = pageLinks(BACKUPS_BASE_PATH, { orgID, limit }, page.tasks.at(-1)?.id, page.more);
        return json(200, { backups: page.tasks.map(toJson), links });
      },
    },
    {
      method: 'PATCH',
      path: `${BACKUPS_BASE_PATH}/{id}`,
      summary: 'Rename a backup',
      body: updateBody,
      responses: ok('The backup', backupSchema),
      handler: async (req) => {
        const { name } = bodyOf(req, updateBody, 'invalid backup update');
        return json(200, toJson(await backups.update(req.access, param(req, 'id'), { name })));
      },
    },
    {
      method: 'DELETE',
      path: `${BACKUPS_BASE_PATH}/{id}`,
      summary: 'Delete a backup',
      responses: deleted,
      handler: async (req) => {
        await backups.delete(req.access, param(req, 'id'));
        return noContent();
      },
    },
  ];
}

export const backupsModule = defineSystemModule<ApiServices, RunnerServices>({
  name: 'backups',
  apis: [
    {
      // The file the construct builds the function's bundle from.
      source: import.meta.url,
      name: 'backups-api',
      basePath: BACKUPS_BASE_PATH,
      resource: 'backups',
      tag: 'Backups',
      table: MANAGES_TASKS,
      enqueue: true,
      needs: ['table', 'runsQueue'],
      routes: ({ get }) => {
        const backups = get(taskService).forSystem(backupSystem);
        return [
          ...backupRoutes(backups),
          ...runRoutes(BACKUPS_BASE_PATH, get(runService).forSystem(backups)),
        ];
      },
    },
  ],
  engine: engine({
    source: import.meta.url,
    definition: backupSystem,
    runner:
      () =>
      async ({ task, run, log }) => {
        backedUp.push({ bucket: task.metadata.bucket, runID: run.runID });
        log(`backed up to ${task.metadata.bucket}, kept ${task.metadata.retainDays} days`);
      },
    table: [],
  }),
});
