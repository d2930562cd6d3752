import { describe, expect, it } from 'vitest';
import { minimalParentheses } from '../../lib/store/expression';

describe('conditions go out with only the parentheses precedence needs', () => {
  it.each([
    [
      '(attribute_not_exists(#c_1)) OR (#c_2 = :c_1) OR ((#c_2 = :c_2) AND (#c_3 < :c_3))',
      'attribute_not_exists(#c_1) OR #c_2 = :c_1 OR #c_2 = :c_2 AND #c_3 < :c_3',
    ],
    ['(#c0_1 = :c0_1) AND (begins_with(#c0_2, :c0_2))', '#c0_1 = :c0_1 AND begins_with(#c0_2, :c0_2)'],
    ['((#a = :a) OR (#b = :b)) AND (#c IN (:x, :y))', '(#a = :a OR #b = :b) AND #c IN (:x, :y)'],
    ['(#a BETWEEN :a AND :b) AND (NOT (#c = :c))', '(#a BETWEEN :a AND :b) AND NOT (#c = :c)'],
    ['#c_1 = :c_1', '#c_1 = :c_1'],
    ['(x) AND (y) OR (z)', '(x) AND (y) OR (z)'],
  ])('%s → %s', (toolbox, sent) => {
    expect(minimalParentheses(toolbox)).toBe(sent);
  });
});
