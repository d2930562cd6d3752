import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { handler as store } from './toolbox-store';

// The store floor with what every Rota handler has around it: middy and the
// Powertools logger (lib/observability/logger.ts), before any Rota code or zod.
const logger = new Logger();

export const handler = middy(store).use(injectLambdaContext(logger));
