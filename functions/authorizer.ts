import type {
  APIGatewayRequestAuthorizerEventV2,
  APIGatewaySimpleAuthorizerWithContextResult,
} from 'aws-lambda';
import type { AuthContext } from '../lib/auth/authorizer';
import { authRuntime } from '../lib/auth/runtime';
import { requireFunctionConfig } from '../lib/function-config';
import { rotaHandler } from '../lib/observability/aws-calls';

requireFunctionConfig(['table', 'operatorToken']);

const { authorizer } = authRuntime();

/**
 * The HTTP API's Lambda authorizer (simple responses, payload 2.0). A refused token is
 * passed on with an empty context (see `DENIED`), so the handler answers it with
 * InfluxDB's `401 unauthorized`; an outage throws, and API Gateway fails the request.
 */
export const handler = rotaHandler(
  'authorizer',
  async (
    event: APIGatewayRequestAuthorizerEventV2,
  ): Promise<APIGatewaySimpleAuthorizerWithContextResult<AuthContext>> => ({
    isAuthorized: true,
    context: await authorizer.authorize(event.headers?.authorization ?? event.identitySource?.[0]),
  }),
);
