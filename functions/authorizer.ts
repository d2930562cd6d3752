import { lambdaHandler } from '../lib/composition/function';
import { authorizer } from './definitions/authorizer';

/** The Lambda entry: configuration from the environment, parsed once at cold start (see the definition). */
export const handler = lambdaHandler(authorizer, process.env);
