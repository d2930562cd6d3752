import { marshall } from '@aws-sdk/util-dynamodb';
import { describe, expect, it } from 'vitest';
import { indexesOf, itemSize, writeUnits } from '../../bench/support/write-units';
import { tableDefinition } from '../../lib/store/keys';

const indexes = indexesOf(tableDefinition('t'));
const task = (extra: Record<string, unknown> = {}) =>
  marshall({
    PK: 'TASK#1',
    SK: 'TASK',
    GSI1PK: 'org#flux',
    GSI1SK: '1',
    id: '1',
    status: 'active',
    every: '1m',
    ...extra,
  });

describe('bench write units (DynamoDB billing of one write, table + each GSI)', () => {
  it('derives the indexes and their projections from the table definition', () => {
    const byName = Object.fromEntries(indexes.map((i) => [i.name, i]));
    expect(byName.byOrgType?.projected).toBeUndefined(); // ALL
    expect(byName.due?.projected).toContain('nextRunAt');
    expect(byName.due?.keys).toEqual(['DUEPK', 'DUEAT']);
  });

  it('a new item is a put in every index whose keys it carries', () => {
    const after = task({ DUEPK: 'DUE#0', DUEAT: 1000 });
    expect(writeUnits({ itemBefore: undefined, itemAfter: after, indexes })).toEqual({
      table: 1,
      byIndex: { byOrgType: 1, due: 1 },
    });
  });

  it('a moved index key is a delete plus a put; an unprojected change writes no index there', () => {
    const before = task({ DUEPK: 'DUE#0', DUEAT: 1000 });
    const after = task({ DUEPK: 'DUE#0', DUEAT: 61000, latestCompleted: 'x' });
    expect(writeUnits({ itemBefore: before, itemAfter: after, indexes }).byIndex).toEqual({
      byOrgType: 1,
      due: 2,
    });
    const bookkeeping = task({ DUEPK: 'DUE#0', DUEAT: 1000, lastRunStatus: 'success' });
    expect(writeUnits({ itemBefore: before, itemAfter: bookkeeping, indexes }).byIndex).toEqual({
      byOrgType: 1,
    });
  });

  it('an item leaving a sparse index is a delete there; an unchanged write touches no index', () => {
    const before = task({ DUEPK: 'DUE#0', DUEAT: 1000 });
    expect(writeUnits({ itemBefore: before, itemAfter: task(), indexes }).byIndex).toEqual({
      byOrgType: 1,
      due: 1,
    });
    expect(writeUnits({ itemBefore: before, itemAfter: before, indexes }).byIndex).toEqual({});
  });

  it('units grow per started KB of the larger item, in the table and in an ALL index', () => {
    const big = task({ flux: 'x'.repeat(1500) });
    expect(itemSize(big)).toBeGreaterThan(1500);
    expect(writeUnits({ itemBefore: task(), itemAfter: big, indexes })).toEqual({
      table: 2,
      byIndex: { byOrgType: 2 },
    });
  });
});
