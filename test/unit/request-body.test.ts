import { describe, expect, it } from 'vitest';
import { InvalidError } from '../../lib/errors';
import { MAX_JSON_DEPTH, readBody } from '../../lib/http/request';
import { apiEvent } from '../support/events';

const read = (body: string) => readBody(apiEvent('POST', '/x', { body }));
const refusal = (body: string) => {
  try {
    read(body);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidError);
    return (error as Error).message;
  }
  throw new Error('expected the body to be refused');
};
const nested = (levels: number) => `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;

describe('readBody refuses JSON the store cannot take', () => {
  it(`takes ${MAX_JSON_DEPTH} levels, counting the top object, and refuses ${MAX_JSON_DEPTH + 1}`, () => {
    expect(read(nested(MAX_JSON_DEPTH))).toBeDefined();
    expect(refusal(nested(MAX_JSON_DEPTH + 1))).toBe(
      `request body is nested deeper than 32 levels at ${Array(32).fill('a').join('.')}; DynamoDB stores at most 32`,
    );
  });

  it('counts arrays as levels, and walks a million brackets without overflowing', () => {
    expect(refusal(`{"list":${'['.repeat(40)}${']'.repeat(40)}}`)).toMatch(/at list\.0\.0\.0/);
    expect(refusal(`${'['.repeat(500_000)}${']'.repeat(500_000)}`)).toMatch(
      /nested deeper than 32 levels at 0\.0\.0/,
    );
  });

  it('cuts long keys short in the message', () => {
    const key = 'k'.repeat(10_000);
    const message = refusal(`${`{"${key}":`.repeat(40)}1${'}'.repeat(40)}`);
    expect(message.length).toBeLessThan(32 * 42 + 100);
    expect(message).toContain(`${'k'.repeat(40)}…`);
    expect(refusal(`{"${key}":{"__proto__":1}}`)).toBe(
      `${'k'.repeat(40)}….__proto__: the key "__proto__" is not allowed in a request body`,
    );
  });

  it.each([
    ['{"__proto__":{"polluted":1}}', '__proto__'],
    ['{"target":{"body":{"constructor":{"prototype":{"polluted":1}}}}}', 'target.body.constructor'],
    ['{"tags":[{"ok":1},{"__proto__":1}]}', 'tags.1.__proto__'],
  ])('refuses %s, naming %s', (body, path) => {
    expect(refusal(body)).toBe(
      `${path}: the key "${path.split('.').at(-1)}" is not allowed in a request body`,
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('takes the words as values and inside longer keys', () => {
    expect(read('{"note":"__proto__","constructorName":"x","a":{"prototype":1}}')).toEqual({
      note: '__proto__',
      constructorName: 'x',
      a: { prototype: 1 },
    });
  });
});
