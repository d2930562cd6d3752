import { lambdaHandler } from '../lib/composition/function';
import { tasksApi } from './definitions/tasks-api';

/** The Lambda entry: configuration from the environment, parsed once at cold start (see the definition). */
export const handler = lambdaHandler(tasksApi, process.env);
