import { AUTH_STORE } from '../../auth/table-uses';
import type { ApiServices, RunnerServices } from '../services';
import { defineSystemModule } from '../system';
import { AUTHORIZATIONS_BASE_PATH, authorizationRoutes } from './http';
import { authStore } from './parts';

/** `/api/v2/authorizations`: API tokens. An API with no task type, so no engine. */
export const authorizationsModule = defineSystemModule<ApiServices, RunnerServices>({
  name: 'authorizations',
  apis: [
    {
      source: import.meta.url,
      name: 'authorizations-api',
      basePath: AUTHORIZATIONS_BASE_PATH,
      resource: 'authorizations',
      tag: 'Authorizations',
      table: [AUTH_STORE.manage],
      enqueue: false,
      needs: ['table'],
      routes: ({ get, resources }) => authorizationRoutes({ store: get(authStore), resources }),
    },
  ],
});
