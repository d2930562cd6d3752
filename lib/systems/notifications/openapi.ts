import { type ApiDoc, crudPaths, errorResponses, runPaths } from '../../http/openapi';
import { endpointBody } from './endpoint-model';
import { ENDPOINTS_BASE_PATH, RULES_BASE_PATH, ruleCreateBody, ruleUpdateBody } from './http';

export const notificationsApiDoc: ApiDoc = {
  tag: 'Notifications',
  schemas: {
    NotificationRuleCreateRequest: ruleCreateBody,
    NotificationRuleUpdateRequest: ruleUpdateBody,
    NotificationEndpointRequest: endpointBody,
  },
  paths: {
    ...runPaths(RULES_BASE_PATH),
    ...crudPaths(
      RULES_BASE_PATH,
      'notification rule',
      'NotificationRuleCreateRequest',
      'NotificationRuleUpdateRequest',
    ),
    [`${RULES_BASE_PATH}/{id}/log`]: {
      get: {
        summary: 'Notifications a rule sent, newest first',
        responses: { 200: { description: 'Log' }, ...errorResponses },
      },
    },
    ...crudPaths(
      ENDPOINTS_BASE_PATH,
      'notification endpoint',
      'NotificationEndpointRequest',
      'NotificationEndpointRequest',
    ),
  },
};
