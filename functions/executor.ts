import { lambdaHandler } from '../lib/composition/function';
import { executor } from './definitions/executor';

/** The Lambda entry: configuration from the environment, parsed once at cold start (see the definition). */
export const handler = lambdaHandler(executor, process.env);
