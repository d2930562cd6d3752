import type { AttributeValue, CreateTableCommandInput } from '@aws-sdk/client-dynamodb';

/**
 * Write request units of one DynamoDB write, from the item before and after it, as
 * DynamoDB bills them (on-demand, standard writes):
 * - the table: one unit per started KB of the larger of the two items (a write that
 *   failed its condition is billed by the item it looked at: pass it as both);
 * - each GSI: a write only where the write changes what that index holds (its key
 *   attributes, or an attribute it projects). An item entering the index is a put, one
 *   leaving it a delete, a changed index key a delete plus a put, a changed projected
 *   attribute one put. Each is one unit per started KB of the index entry (table key +
 *   index key + projected attributes).
 *
 * The indexes come from the table's definition (`indexesOf(tableDefinition(...))`), so a
 * change in what an index projects changes the count.
 */

export type Item = Record<string, AttributeValue>;

export interface IndexShape {
  name: string;
  /** The index's key attributes (partition, then sort). */
  keys: string[];
  /** The table's key attributes: every index entry carries them. */
  tableKeys: string[];
  /** Projected non-key attributes; `undefined` = projection ALL. */
  projected: string[] | undefined;
}

export interface WriteUnitsInput {
  itemBefore: Item | undefined;
  itemAfter: Item | undefined;
  indexes: readonly IndexShape[];
}

export interface WriteUnits {
  table: number;
  /** Index name → units (only indexes the write touched). */
  byIndex: Record<string, number>;
}

/** The GSIs of a CreateTable definition (lib/store/keys.ts `tableDefinition`, which infra/rota-table.ts deploys). */
export function indexesOf(definition: CreateTableCommandInput): IndexShape[] {
  const tableKeys = (definition.KeySchema ?? []).flatMap((k) => (k.AttributeName ? [k.AttributeName] : []));
  return (definition.GlobalSecondaryIndexes ?? []).map((index) => {
    const type = index.Projection?.ProjectionType ?? 'ALL';
    return {
      name: index.IndexName ?? '',
      keys: (index.KeySchema ?? []).flatMap((k) => (k.AttributeName ? [k.AttributeName] : [])),
      tableKeys,
      projected:
        type === 'ALL'
          ? undefined
          : type === 'KEYS_ONLY'
            ? []
            : [...(index.Projection?.NonKeyAttributes ?? [])],
    };
  });
}

/** DynamoDB's item size: UTF-8 attribute names plus values (numbers by significant digits). */
export function itemSize(item: Item): number {
  let size = 0;
  for (const [name, value] of Object.entries(item)) size += Buffer.byteLength(name) + valueSize(value);
  return size;
}

function numberSize(n: string): number {
  const digits = n
    .replace(/^-/, '')
    .replace('.', '')
    .replace(/e.*$/i, '')
    .replace(/^0+/, '')
    .replace(/0+$/, '');
  return Math.ceil(Math.max(1, digits.length) / 2) + 1;
}

function valueSize(value: AttributeValue): number {
  if (value.S !== undefined) return Buffer.byteLength(value.S);
  if (value.N !== undefined) return numberSize(value.N);
  if (value.B !== undefined) return value.B.length;
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  if (value.L !== undefined) return 3 + value.L.reduce((sum, v) => sum + 1 + valueSize(v), 0);
  if (value.M !== undefined) return 3 + Object.keys(value.M).length + itemSize(value.M);
  if (value.SS !== undefined) return value.SS.reduce((sum, s) => sum + Buffer.byteLength(s), 0);
  if (value.NS !== undefined) return value.NS.reduce((sum, n) => sum + numberSize(n), 0);
  if (value.BS !== undefined) return value.BS.reduce((sum, b) => sum + b.length, 0);
  return 1;
}

export const unitsFor = (bytes: number) => Math.max(1, Math.ceil(bytes / 1024));

function pick(item: Item, attrs: readonly string[]): Item {
  const out: Item = {};
  for (const attr of attrs) if (item[attr] !== undefined) out[attr] = item[attr];
  return out;
}

/** The entry an item has in an index, or undefined when it lacks a key attribute (sparse). */
export function indexEntry(item: Item | undefined, index: IndexShape): Item | undefined {
  if (!item || index.keys.some((k) => item[k] === undefined)) return undefined;
  return index.projected === undefined
    ? item
    : pick(item, [...index.tableKeys, ...index.keys, ...index.projected]);
}

// Attribute order does not matter to DynamoDB: compare canonically.
const canonical = (item: Item): string =>
  JSON.stringify(Object.keys(item).sort(), undefined) +
  JSON.stringify(
    Object.keys(item)
      .sort()
      .map((k) => item[k]),
  );

export function writeUnits({ itemBefore, itemAfter, indexes }: WriteUnitsInput): WriteUnits {
  const sizes = [itemBefore, itemAfter].filter((i): i is Item => !!i).map(itemSize);
  const table = unitsFor(Math.max(0, ...sizes));
  const byIndex: Record<string, number> = {};
  for (const index of indexes) {
    const before = indexEntry(itemBefore, index);
    const after = indexEntry(itemAfter, index);
    let units = 0;
    if (before && after) {
      const keyMoved = canonical(pick(before, index.keys)) !== canonical(pick(after, index.keys));
      if (keyMoved) units = unitsFor(itemSize(before)) + unitsFor(itemSize(after));
      else if (canonical(before) !== canonical(after))
        units = unitsFor(Math.max(itemSize(before), itemSize(after)));
    } else if (before) units = unitsFor(itemSize(before));
    else if (after) units = unitsFor(itemSize(after));
    if (units > 0) byIndex[index.name] = units;
  }
  return { table, byIndex };
}

export const totalUnits = (u: WriteUnits) => u.table + Object.values(u.byIndex).reduce((a, b) => a + b, 0);
