import type {
  APIGatewayRequestAuthorizerEventV2,
  APIGatewaySimpleAuthorizerWithContextResult,
} from 'aws-lambda';
import type { AuthContext } from '../../lib/auth/authorizer';
import { authorizer as tokenAuthorizer } from '../../lib/composition/auth';
import { defineFunction } from '../../lib/composition/function';

/**
 * The HTTP API's Lambda authorizer (simple responses, payload 2.0). A refused token is
 * passed on with an empty context (see `DENIED`), so the handler answers it with
 * InfluxDB's `401 unauthorized`; an outage throws, and API Gateway fails the request.
 */
export const authorizer = defineFunction({
  name: 'authorizer',
  needs: ['table', 'operatorToken'],
  build: (rota) => {
    const tokens = rota.get(tokenAuthorizer);
    return async (
      event: APIGatewayRequestAuthorizerEventV2,
    ): Promise<APIGatewaySimpleAuthorizerWithContextResult<AuthContext>> => ({
      isAuthorized: true,
      context: await tokens.authorize(event.headers?.authorization ?? event.identitySource?.[0]),
    });
  },
});
