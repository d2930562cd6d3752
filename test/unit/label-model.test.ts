import { describe, expect, it } from 'vitest';
import { flattenMessage } from '../../lib/errors';
import { labelCreateBody, labelUpdateBody, mergeProperties } from '../../lib/systems/labels/model';
import { parseOrThrow } from '../../lib/validation';

/** The one-line message a client gets for a body the schema refuses. */
function refusal(schema: Parameters<typeof parseOrThrow>[0], body: unknown): string {
  try {
    parseOrThrow(schema, body, 'invalid label');
  } catch (error) {
    return flattenMessage(error);
  }
  throw new Error('the body was accepted');
}

describe('label bodies', () => {
  it('removes a property sent as "", keeps the others and adds new ones', () => {
    expect(mergeProperties({ color: 'red', description: 'x' }, { description: '', team: 'db' })).toEqual({
      color: 'red',
      team: 'db',
    });
    expect(mergeProperties({ color: 'red' }, undefined)).toEqual({ color: 'red' });
  });

  it('refuses a create without a name or org, naming the field', () => {
    expect(refusal(labelCreateBody, { orgID: 'o', name: '  ' })).toMatch(/^invalid label: .*name/);
    expect(refusal(labelCreateBody, { name: 'n' })).toMatch(/orgID: required/);
  });

  it('refuses property values that are not strings and too many properties', () => {
    expect(refusal(labelUpdateBody, { properties: { color: 1 } })).toMatch(/properties\.color/);
    const many = Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, 'v']));
    expect(refusal(labelUpdateBody, { properties: many })).toMatch(/properties: at most 32 properties/);
  });
});
