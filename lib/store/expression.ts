/**
 * dynamodb-toolbox writes every operand of an AND or OR in parentheses:
 * `(attribute_not_exists(#c_1)) OR (#c_2 = :c_1) OR ((#c_2 = :c_2) AND (#c_3 < :c_3))`.
 * DynamoDB does not mind, but dynalite (local mode, the tests, the bench) parses
 * expressions with a backtracking grammar that tries each parenthesis as a grouped path
 * first: one parenthesised comparison costs it about seven times the bare one, and the
 * claim's condition three times the hand-written one. So conditions go out with only
 * the parentheses that precedence needs (NOT > AND > OR); what they mean is unchanged.
 *
 * Names and values are always placeholders in what the toolbox builds, so the only
 * parentheses in an expression are its structure, function calls and `IN (…)`.
 * Anything not of the toolbox's shape is sent as it is.
 */
export function minimalParentheses(expression: string): string {
  const group = operands(expression);
  if (!group) return expression;
  return group.parts
    .map((part) => {
      const inner = minimalParentheses(part);
      const child = operands(part);
      // AND binds tighter than OR; a leaf with an AND or OR of its own (BETWEEN, NOT) keeps them.
      const bare = child ? group.op === 'OR' && child.op === 'AND' : !/ (AND|OR) /.test(part);
      return bare ? inner : `(${inner})`;
    })
    .join(` ${group.op} `);
}

/** `(a) OP (b) OP …` with one connector at depth 0, split into its operands; undefined for anything else. */
function operands(expression: string): { op: 'AND' | 'OR'; parts: string[] } | undefined {
  const parts: string[] = [];
  let op: 'AND' | 'OR' | undefined;
  let at = 0;
  while (at < expression.length) {
    const close = matchingParenthesis(expression, at);
    if (close === undefined) return undefined;
    parts.push(expression.slice(at + 1, close));
    at = close + 1;
    if (at === expression.length) break;
    const connector = / (AND|OR) \(/y;
    connector.lastIndex = at;
    const found = connector.exec(expression)?.[1] as 'AND' | 'OR' | undefined;
    if (!found || (op && op !== found)) return undefined;
    op = found;
    at = connector.lastIndex - 1;
  }
  return op && parts.length > 1 ? { op, parts } : undefined;
}

/** Where the parenthesis opened at `open` closes; undefined when `open` is not one or it never closes. */
function matchingParenthesis(expression: string, open: number): number | undefined {
  if (expression[open] !== '(') return undefined;
  let depth = 0;
  for (let at = open; at < expression.length; at++) {
    if (expression[at] === '(') depth++;
    else if (expression[at] === ')' && --depth === 0) return at;
  }
  return undefined;
}
