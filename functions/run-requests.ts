import { lambdaHandler } from '../lib/composition/function';
import { runRequests } from './definitions/run-requests';

/** The Lambda entry: configuration from the environment, parsed once at cold start (see the definition). */
export const handler = lambdaHandler(runRequests, process.env);
