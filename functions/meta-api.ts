import { lambdaHandler } from '../lib/composition/function';
import { metaApi } from './definitions/meta-api';

/** The Lambda entry: configuration from the environment, parsed once at cold start (see the definition). */
export const handler = lambdaHandler(metaApi, process.env);
