import { authorizationRoutes } from '../../lib/auth/http';
import { authStore } from '../../lib/composition/auth';
import { defineFunction } from '../../lib/composition/function';
import { createApiHandler } from '../../lib/http/api-handler';

/** `/api/v2/authorizations`: API tokens. Managing them takes `authorizations` permissions. */
export const authorizationsApi = defineFunction({
  name: 'authorizations-api',
  needs: ['table'],
  build: (rota) =>
    createApiHandler(authorizationRoutes({ store: rota.get(authStore) }), {
      resource: 'authorizations',
      authMode: rota.config.ROTA_AUTH_MODE,
    }),
});
