import { lambdaHandler } from '../lib/composition/function';
import { reconciler } from './definitions/reconciler';

/** The Lambda entry: configuration from the environment, parsed once at cold start (see the definition). */
export const handler = lambdaHandler(reconciler, process.env);
