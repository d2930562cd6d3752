import { lambdaHandler } from '../lib/composition/function';
import { checksApi } from './definitions/checks-api';

/** The Lambda entry: configuration from the environment, parsed once at cold start (see the definition). */
export const handler = lambdaHandler(checksApi, process.env);
