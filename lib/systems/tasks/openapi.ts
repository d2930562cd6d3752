import * as z from 'zod';
import { type ApiDoc, errorResponses, jsonBody, runPaths } from '../../http/openapi';
import { listTasksQuery, taskCreateBody, taskUpdateBody } from './api-schemas';
import { TASKS_BASE_PATH } from './http';

const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };

const queryParams = Object.entries(z.toJSONSchema(listTasksQuery, { io: 'input' }).properties ?? {}).map(
  ([name, schema]) => ({ name, in: 'query', required: false, schema }),
);

export const tasksApiDoc: ApiDoc = {
  tag: 'Tasks',
  schemas: { TaskCreateRequest: taskCreateBody, TaskUpdateRequest: taskUpdateBody },
  paths: {
    ...runPaths(TASKS_BASE_PATH),
    [TASKS_BASE_PATH]: {
      get: {
        summary: 'List tasks',
        parameters: queryParams,
        responses: { 200: { description: 'Tasks' }, ...errorResponses },
      },
      post: {
        summary: 'Create a task',
        requestBody: jsonBody('TaskCreateRequest'),
        responses: { 201: { description: 'The created task' }, ...errorResponses },
      },
    },
    [`${TASKS_BASE_PATH}/{id}`]: {
      get: {
        summary: 'Get a task',
        parameters: [idParam],
        responses: { 200: { description: 'Task' }, ...errorResponses },
      },
      patch: {
        summary: 'Update a task',
        parameters: [idParam],
        requestBody: jsonBody('TaskUpdateRequest'),
        responses: { 200: { description: 'The updated task' }, ...errorResponses },
      },
      delete: {
        summary: 'Delete a task',
        parameters: [idParam],
        responses: { 204: { description: 'Deleted' }, ...errorResponses },
      },
    },
  },
};
