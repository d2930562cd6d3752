import { lambdaHandler } from '../lib/composition/function';
import { notificationRulesApi } from './definitions/notification-rules-api';

/** The Lambda entry: configuration from the environment, parsed once at cold start (see the definition). */
export const handler = lambdaHandler(notificationRulesApi, process.env);
