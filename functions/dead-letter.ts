import { lambdaHandler } from '../lib/composition/function';
import { deadLetter } from './definitions/dead-letter';

/** The Lambda entry: configuration from the environment, parsed once at cold start (see the definition). */
export const handler = lambdaHandler(deadLetter, process.env);
