import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { ErrorBody } from '../errors';

export type ApiResponse = APIGatewayProxyStructuredResultV2 & { statusCode: number };

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8' };

export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): ApiResponse {
  return { statusCode, headers: { ...JSON_HEADERS, ...headers }, body: JSON.stringify(body) };
}

export function noContent(): ApiResponse {
  return { statusCode: 204, headers: {}, body: '' };
}

export function errorResponse(status: number, error: ErrorBody): ApiResponse {
  // InfluxDB repeats the code in a header so clients can branch without parsing the body.
  return json(status, error, { 'x-platform-error-code': error.code });
}
