import { lambdaHandler } from '../lib/composition/function';
import { scheduler } from './definitions/scheduler';

/** The Lambda entry: configuration from the environment, parsed once at cold start (see the definition). */
export const handler = lambdaHandler(scheduler, process.env);
