import type { ApiServices, RunnerServices } from '../services';
import { defineSystemModule } from '../system';
import { LABELS_BASE_PATH, labelRoutes } from './http';
import { labelStore } from './parts';
import { LABEL_STORE } from './table-uses';

/**
 * `/api/v2/labels`: InfluxDB's labels, plain items with no task type. The resources
 * they attach to serve their own `…/labels` routes (lib/systems/labels/mapping-routes.ts).
 */
export const labelsModule = defineSystemModule<ApiServices, RunnerServices>({
  name: 'labels',
  apis: [
    {
      source: import.meta.url,
      name: 'labels-api',
      basePath: LABELS_BASE_PATH,
      resource: 'labels',
      tag: 'Labels',
      table: [LABEL_STORE.manage, LABEL_STORE.directory],
      enqueue: false,
      needs: ['table'],
      routes: ({ get }) => labelRoutes(get(labelStore)),
    },
  ],
});
