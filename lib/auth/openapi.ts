import * as z from 'zod';
import { type ApiDoc, errorResponses, jsonBody } from '../http/openapi';
import {
  AUTHORIZATIONS_BASE_PATH,
  authorizationCreateBody,
  authorizationUpdateBody,
  listAuthorizationsQuery,
} from './http';

const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };
const queryParams = Object.entries(
  z.toJSONSchema(listAuthorizationsQuery, { io: 'input' }).properties ?? {},
).map(([name, schema]) => ({ name, in: 'query', required: false, schema }));

export const authorizationsApiDoc: ApiDoc = {
  tag: 'Authorizations',
  schemas: {
    AuthorizationPostRequest: authorizationCreateBody,
    AuthorizationUpdateRequest: authorizationUpdateBody,
  },
  paths: {
    [AUTHORIZATIONS_BASE_PATH]: {
      get: {
        summary: "List an org's tokens (never the token strings)",
        parameters: queryParams,
        responses: { 200: { description: 'Authorizations' }, ...errorResponses },
      },
      post: {
        summary: 'Create a token; the answer is the only place the token string appears',
        requestBody: jsonBody('AuthorizationPostRequest'),
        responses: { 201: { description: 'The authorization, with its token' }, ...errorResponses },
      },
    },
    [`${AUTHORIZATIONS_BASE_PATH}/{id}`]: {
      get: {
        summary: 'Get a token',
        parameters: [idParam],
        responses: { 200: { description: 'Authorization' }, ...errorResponses },
      },
      patch: {
        summary: 'Activate or deactivate a token, or change its description',
        parameters: [idParam],
        requestBody: jsonBody('AuthorizationUpdateRequest'),
        responses: { 200: { description: 'The updated authorization' }, ...errorResponses },
      },
      delete: {
        summary: 'Revoke a token',
        parameters: [idParam],
        responses: { 204: { description: 'Deleted' }, ...errorResponses },
      },
    },
  },
};
