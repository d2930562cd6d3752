import { type ApiDoc, crudPaths, errorResponses, runPaths } from '../../http/openapi';
import { CHECKS_BASE_PATH, checkCreateBody, checkUpdateBody } from './http';

export const checksApiDoc: ApiDoc = {
  tag: 'Checks',
  schemas: { CheckCreateRequest: checkCreateBody, CheckUpdateRequest: checkUpdateBody },
  paths: {
    ...runPaths(CHECKS_BASE_PATH),
    ...crudPaths(CHECKS_BASE_PATH, 'check', 'CheckCreateRequest', 'CheckUpdateRequest'),
    [`${CHECKS_BASE_PATH}/{id}/statuses`]: {
      get: {
        summary: 'Statuses of a check, newest first (limit, afterTime, beforeTime)',
        responses: { 200: { description: 'Statuses' }, ...errorResponses },
      },
    },
  },
};
