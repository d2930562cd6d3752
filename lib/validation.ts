import type { z } from 'zod';
import { InvalidError } from './errors';

/** Renders zod issues as one line: `every: must be at least 1s; name: required`. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const path = issue.path.map(String).join('.');
      const message =
        issue.code === 'unrecognized_keys' ? `unknown field(s) ${issue.keys.join(', ')}` : issue.message;
      return path ? `${path}: ${message}` : message;
    })
    .join('; ');
}

/** Parses `input` or throws `invalid` with `context: issues`. */
export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown, context: string): z.output<S> {
  const result = schema.safeParse(input);
  if (!result.success)
    throw new InvalidError(context, { cause: new InvalidError(describeIssues(result.error)) });
  return result.data;
}
