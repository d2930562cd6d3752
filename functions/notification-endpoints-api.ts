import { lambdaHandler } from '../lib/composition/function';
import { notificationEndpointsApi } from './definitions/notification-endpoints-api';

/** The Lambda entry: configuration from the environment, parsed once at cold start (see the definition). */
export const handler = lambdaHandler(notificationEndpointsApi, process.env);
