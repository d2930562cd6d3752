/**
 * Builds an UpdateExpression from a plain object: defined values are SET, undefined
 * values and the names in `remove` are REMOVEd. Attribute names are always aliased,
 * so reserved words such as `name` and `status` are safe.
 */
export function buildUpdate(fields: Record<string, unknown>, remove: readonly string[]) {
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  const sets: string[] = [];
  const removes: string[] = [];
  let n = 0;
  for (const [field, value] of Object.entries(fields)) {
    const alias = `#u${n}`;
    names[alias] = field;
    if (value === undefined) {
      removes.push(alias);
    } else {
      sets.push(`${alias} = :u${n}`);
      values[`:u${n}`] = value;
    }
    n++;
  }
  for (const field of remove) {
    if (field in fields) continue;
    const alias = `#u${n++}`;
    names[alias] = field;
    removes.push(alias);
  }
  const expression = [
    sets.length ? `SET ${sets.join(', ')}` : '',
    removes.length ? `REMOVE ${removes.join(', ')}` : '',
  ]
    .filter(Boolean)
    .join(' ');
  return { expression, names, values };
}
