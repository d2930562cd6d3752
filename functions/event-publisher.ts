import { lambdaHandler } from '../lib/composition/function';
import { eventPublisher } from './definitions/event-publisher';

/** The Lambda entry: configuration from the environment, parsed once at cold start (see the definition). */
export const handler = lambdaHandler(eventPublisher, process.env);
