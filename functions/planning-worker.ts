import { lambdaHandler } from '../lib/composition/function';
import { planningWorker } from './definitions/planning-worker';

/** The Lambda entry: configuration from the environment, parsed once at cold start (see the definition). */
export const handler = lambdaHandler(planningWorker, process.env);
