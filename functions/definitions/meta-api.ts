import { defineFunction } from '../../lib/composition/function';
import { createApiHandler } from '../../lib/http/api-handler';
import { consolePageRoute } from '../../lib/http/console-page';
import { buildOpenApi, META_ROUTES } from '../../lib/http/openapi';
import { json } from '../../lib/http/response';
import { systemApiDocs } from '../../lib/systems/api-docs';
import { SYSTEMS } from '../../lib/systems/registry';

/**
 * `/health`, `/api/v2/openapi.json` and the web console at `/`: public on purpose (no `resource`), served
 * without an authorizer, and with no table access. The document is generated from
 * every registered API's route table.
 */
export const metaApi = defineFunction({
  name: 'meta-api',
  needs: [],
  build: () => {
    const document = buildOpenApi([
      ...systemApiDocs(SYSTEMS),
      { tag: 'Meta', routes: META_ROUTES, public: true },
    ]);
    return createApiHandler([
      { ...META_ROUTES[0], handler: async () => json(200, { status: 'pass' }) },
      { ...META_ROUTES[1], handler: async () => json(200, document) },
      consolePageRoute,
    ]);
  },
});
