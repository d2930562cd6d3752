import { lambdaHandler } from '../lib/composition/function';
import { authorizationsApi } from './definitions/authorizations-api';

/** The Lambda entry: configuration from the environment, parsed once at cold start (see the definition). */
export const handler = lambdaHandler(authorizationsApi, process.env);
