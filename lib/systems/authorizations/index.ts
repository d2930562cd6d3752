import { AUTH_STORE } from '../../auth/store';
import type { ApiServices, RunnerServices } from '../services';
import { defineSystemModule } from '../system';
import { AUTHORIZATIONS_BASE_PATH, authorizationRoutes } from './http';

/** `/api/v2/authorizations`: API tokens. An API with no task type, so no engine. */
export const authorizationsModule = defineSystemModule<ApiServices, RunnerServices>({
  name: 'authorizations',
  apis: [
    {
      name: 'authorizations-api',
      basePath: AUTHORIZATIONS_BASE_PATH,
      resource: 'authorizations',
      tag: 'Authorizations',
      table: [AUTH_STORE.manage],
      enqueue: false,
      needs: ['table'],
      routes: ({ authStore, resources }) => authorizationRoutes({ store: authStore(), resources }),
    },
  ],
});
