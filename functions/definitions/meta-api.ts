import { readFile } from 'node:fs/promises';
import { defineFunction } from '../../lib/composition/function';
import { UnavailableError } from '../../lib/errors';
import { createApiHandler } from '../../lib/http/api-handler';
import { consolePageRoute } from '../../lib/http/console-page';
import { EVENTS_ROUTE, eventsOnAwsError } from '../../lib/http/events-route';
import { META_ROUTES, OPENAPI_FILE } from '../../lib/http/meta-routes';
import { type ApiResponse, json } from '../../lib/http/response';

/** The OpenAPI document as JSON text, or undefined when it is not there. */
export type DocumentSource = () => Promise<string | undefined>;

/**
 * `/health`, `/api/v2/openapi.json` and the web console at `/`: public on purpose (no
 * `resource`), served without an authorizer, and with no table access. It also answers
 * `GET /api/v2/events` on AWS (behind the authorizer), saying the events are on the bus. The document is
 * generated from every registered API's route table before it is served (`document`),
 * so this function holds no system's code.
 */
export function metaApiFunction(document: DocumentSource) {
  return defineFunction({
    name: 'meta-api',
    needs: [],
    build: () =>
      createApiHandler([
        { ...META_ROUTES[0], handler: async () => json(200, { status: 'pass' }) },
        { ...META_ROUTES[1], handler: documentRoute(document) },
        consolePageRoute,
        // Behind the authorizer: a bad token is a 401 here too, a good one learns where the events are.
        {
          ...EVENTS_ROUTE,
          handler: async () => {
            throw eventsOnAwsError();
          },
        },
      ]),
  });
}

/** Serves the document, read once; a missing one is `503 unavailable`, and read again next time. */
function documentRoute(document: DocumentSource): () => Promise<ApiResponse> {
  let text: Promise<string | undefined> | undefined;
  return async () => {
    text ??= document();
    const body = await text;
    if (body === undefined) {
      text = undefined;
      throw new UnavailableError('the OpenAPI document is not built: run npm run build');
    }
    return { statusCode: 200, headers: { 'content-type': 'application/json; charset=utf-8' }, body };
  };
}

/** The deployed function's: the document the construct wrote beside its bundle. */
export const metaApi = metaApiFunction(() =>
  readFile(new URL(`./${OPENAPI_FILE}`, import.meta.url), 'utf8').catch(() => undefined),
);
