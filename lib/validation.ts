import type { z } from 'zod';
import { InvalidError } from './errors';

/**
 * Renders zod issues as one line a user can act on, each naming its field, what was
 * expected and, for a closed set, every valid value:
 * `name: required (a string); status: must be one of "active", "inactive", got "paused"`.
 * Messages a schema wrote itself are kept; zod's generic wording is rewritten.
 */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const path = issue.path.map(String).join('.');
      const message = describeIssue(issue);
      return path ? `${path}: ${message}` : message;
    })
    .join('; ');
}

/** zod's own messages ("Invalid input: …", "Too small: …"); anything else a schema chose. */
const ZOD_WORDING = /^(Invalid|Too (small|big)|Expected)\b/;

type Issue = z.core.$ZodIssue;

function describeIssue(issue: Issue): string {
  if (issue.code === 'unrecognized_keys') return `unknown field(s) ${issue.keys.join(', ')}`;
  if (!ZOD_WORDING.test(issue.message)) return issue.message;
  switch (issue.code) {
    case 'invalid_type': {
      const received = receivedOf(issue);
      const expected = kindName(issue.expected);
      return received === 'undefined'
        ? `required (${expected})`
        : `expected ${expected}, got ${kindName(received)}`;
    }
    case 'invalid_value': {
      const values = issue.values.map((v) => JSON.stringify(v));
      if (receivedOf(issue) === 'undefined') return `required (one of ${values.join(', ')})`;
      const got = 'input' in issue ? `, got ${shown(issue.input)}` : '';
      return values.length === 1 ? `must be ${values[0]}${got}` : `must be one of ${values.join(', ')}${got}`;
    }
    case 'too_small':
      return bound(issue.origin, 'at least', issue.minimum, issue.inclusive);
    case 'too_big':
      return bound(issue.origin, 'at most', issue.maximum, issue.inclusive);
    case 'invalid_format':
      return issue.format === 'url' ? 'must be a valid URL' : `must be a valid ${issue.format}`;
    case 'not_multiple_of':
      return `must be a multiple of ${String(issue.divisor)}`;
    case 'invalid_union':
      return 'matches none of the accepted shapes';
    default:
      return issue.message;
  }
}

/** What zod received, from the input when reported, else from its own message. */
function receivedOf(issue: Issue): string | undefined {
  if (!('input' in issue)) return /received (\w+)/.exec(issue.message)?.[1];
  const { input } = issue;
  return input === null ? 'null' : Array.isArray(input) ? 'array' : typeof input;
}

/** A value the caller sent, quoted back short. */
function shown(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

function kindName(kind: string | undefined): string {
  switch (kind) {
    case 'object':
    case 'array':
    case 'integer':
      return `an ${kind}`;
    case 'int':
      return 'an integer';
    case 'undefined':
    case 'null':
      return kind;
    case undefined:
      return 'a value';
    default:
      return `a ${kind}`;
  }
}

function bound(
  origin: string,
  side: 'at least' | 'at most',
  limit: number | bigint,
  inclusive?: boolean,
): string {
  const value = Number(limit);
  if (origin === 'string') {
    if (side === 'at least' && value === 1) return 'must not be empty';
    return `must be ${side} ${value} characters long`;
  }
  if (origin === 'array' || origin === 'set') return `must have ${side} ${value} item(s)`;
  if (inclusive === false) return `must be ${side === 'at least' ? 'greater' : 'less'} than ${value}`;
  return `must be ${side} ${value}`;
}

/** Parses `input` or throws `invalid` with `context: issues`. */
export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown, context: string): z.output<S> {
  const result = schema.safeParse(input, { reportInput: true });
  if (!result.success)
    throw new InvalidError(context, { cause: new InvalidError(describeIssues(result.error)) });
  return result.data;
}
