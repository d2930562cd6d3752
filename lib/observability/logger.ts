import { Logger } from '@aws-lambda-powertools/logger';

/**
 * One structured logger for the process. Lambda functions and local mode share it;
 * level and sampling come from the standard POWERTOOLS_* variables.
 */
export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'rota' });
