import type { AttributeValue, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { ATTR, DUE_PROJECTION, TASK_SK } from '../../lib/store/keys';

/**
 * Counts AWS requests on real SDK clients with one middleware per client: by
 * service + command name, per "source" (scheduler, executor, event source, …).
 *
 * DynamoDB: the middleware adds `ReturnConsumedCapacity: 'INDEXES'` to every call.
 * dynalite answers it for the table part of reads and writes, but never for the
 * GSI part of a write and never for a write that failed its condition, so:
 * - read units: as reported (Query includes the index it read), at least DynamoDB's
 *   minimum of 1 unit (0.5 eventually consistent) per request;
 * - write units: the table part as reported; failed conditional writes estimated
 *   from the size of the item they targeted (DynamoDB still charges them); plus an
 *   estimate of one write per KB for each GSI whose content the write changes (a task
 *   item is in `byOrgType`, projection ALL, and in `due` while it carries DUEPK, which
 *   projects only the scheduling fields; run and lease items are in no index). The GSI
 *   part is always an estimate.
 */

export type Source = 'scheduler' | 'executor' | 'eventSource' | 'substrate' | 'admin';

export interface OpStats {
  requests: number;
  /** Conditional writes that failed their condition (still billed on DynamoDB). */
  conditionalFailures: number;
  /** ReceiveMessage calls that returned no message (idle polling). */
  emptyReceives: number;
  messages: number;
  readUnits: number;
  /** Table write units (reported by the emulator, or estimated for failed conditions). */
  tableWriteUnits: number;
  /** Estimated GSI write units. */
  gsiWriteUnits: number;
  /** Items returned by Query/GetItem. */
  itemsRead: number;
}

const emptyStats = (): OpStats => ({
  requests: 0,
  conditionalFailures: 0,
  emptyReceives: 0,
  messages: 0,
  readUnits: 0,
  tableWriteUnits: 0,
  gsiWriteUnits: 0,
  itemsRead: 0,
});

const READS = new Set(['GetItemCommand', 'QueryCommand', 'ScanCommand', 'BatchGetItemCommand']);
const WRITES = new Set([
  'PutItemCommand',
  'UpdateItemCommand',
  'DeleteItemCommand',
  'BatchWriteItemCommand',
  'TransactWriteItemsCommand',
]);
const CAPACITY_COMMANDS = new Set([...READS, ...WRITES]);

type Item = Record<string, AttributeValue>;

/** DynamoDB's item size rules (attribute names + values), close enough for units. */
export function itemSize(item: Item): number {
  let size = 0;
  for (const [name, value] of Object.entries(item)) size += Buffer.byteLength(name) + valueSize(value);
  return size;
}

function valueSize(value: AttributeValue): number {
  if (value.S !== undefined) return Buffer.byteLength(value.S);
  if (value.N !== undefined) return Math.ceil(value.N.replace(/^-/, '').replace('.', '').length / 2) + 1;
  if (value.B !== undefined) return value.B.length;
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  if (value.L !== undefined) return 3 + value.L.reduce((sum, v) => sum + 1 + valueSize(v), 0);
  if (value.M !== undefined) return 3 + Object.keys(value.M).length + itemSize(value.M);
  if (value.SS !== undefined) return value.SS.reduce((sum, s) => sum + Buffer.byteLength(s), 0);
  if (value.NS !== undefined) return value.NS.reduce((sum, n) => sum + n.length, 0);
  return 1;
}

const kb = (bytes: number) => Math.max(1, Math.ceil(bytes / 1024));
const keyOf = (table: string, key: Item | undefined) =>
  key ? `${table}|${key[ATTR.pk]?.S ?? ''}|${key[ATTR.sk]?.S ?? ''}` : undefined;

export class RequestCounter {
  /** `${source}|${service}:${command}` → stats */
  private readonly stats = new Map<string, OpStats>();
  /** Last item seen per key, to size writes and know which GSIs an item is in. */
  private readonly items = new Map<string, Item>();
  enabled = true;

  reset(): void {
    this.stats.clear();
  }

  private bucket(source: Source, op: string): OpStats {
    const id = `${source}|${op}`;
    let stats = this.stats.get(id);
    if (!stats) {
      stats = emptyStats();
      this.stats.set(id, stats);
    }
    return stats;
  }

  private remember(table: string, item: Item | undefined): void {
    const key = keyOf(table, item);
    if (key && item) this.items.set(key, item);
  }

  /**
   * Estimated GSI write units of one write, given the item before and after, as
   * DynamoDB bills them: an index is written only when the write changes what it
   * holds (any attribute for ALL, the key and listed attributes for INCLUDE); a
   * changed index key is a delete plus a put.
   */
  private gsiUnits(before: Item | undefined, after: Item | undefined): number {
    const isTask = (before ?? after)?.[ATTR.sk]?.S === TASK_SK;
    if (!isTask) return 0;
    let units = 0;
    for (const index of TASK_INDEXES) {
      const view = (item: Item | undefined) =>
        item?.[index.pk] === undefined ? undefined : index.attrs ? pick(item, index.attrs) : item;
      const b = view(before);
      const a = view(after);
      if (!b && !a) continue;
      if (b && a && JSON.stringify(b) === JSON.stringify(a)) continue;
      const keyChanged =
        b && a && JSON.stringify(pick(b, index.keys)) !== JSON.stringify(pick(a, index.keys));
      units += keyChanged
        ? kb(itemSize(b)) + kb(itemSize(a))
        : kb(Math.max(...[b, a].filter((i): i is Item => !!i).map(itemSize)));
    }
    return units;
  }

  /** Adds the counting middleware to a DynamoDB client. */
  instrumentDynamo(client: DynamoDBClient, source: Source): DynamoDBClient {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const command = context.commandName ?? 'unknown';
        const input = args.input as Record<string, unknown>;
        if (!this.enabled) return next(args);
        if (CAPACITY_COMMANDS.has(command)) {
          args.input = { ...input, ReturnConsumedCapacity: 'INDEXES' };
        }
        const stats = this.bucket(source, `DynamoDB:${command.replace(/Command$/, '')}`);
        stats.requests++;
        const table = String(input.TableName ?? '');
        const key = (input.Key ?? input.Item) as Item | undefined;
        const cacheKey = keyOf(table, key);
        const before = cacheKey ? this.items.get(cacheKey) : undefined;
        try {
          const result = await next(args);
          const output = result.output as unknown as Record<string, unknown>;
          const capacity = output.ConsumedCapacity as
            | { CapacityUnits?: number; Table?: { CapacityUnits?: number } }
            | { CapacityUnits?: number }[]
            | undefined;
          const reported = Array.isArray(capacity)
            ? capacity.reduce((sum, c) => sum + (c.CapacityUnits ?? 0), 0)
            : (capacity?.CapacityUnits ?? 0);
          if (READS.has(command)) {
            const minimum = input.ConsistentRead ? 1 : 0.5;
            stats.readUnits += Math.max(minimum, reported);
            if (command === 'GetItemCommand') {
              const item = output.Item as Item | undefined;
              if (item) stats.itemsRead++;
              this.remember(table, item);
            } else {
              const items = (output.Items as Item[] | undefined) ?? [];
              stats.itemsRead += typeof output.Count === 'number' ? output.Count : items.length;
              for (const item of items) this.remember(table, item);
            }
          } else if (WRITES.has(command)) {
            if (command === 'BatchWriteItemCommand') {
              // Seeding and cleanup only: one unit per KB per item, GSIs as for single writes.
              const requests = Object.values(
                (input.RequestItems ?? {}) as Record<string, { PutRequest?: { Item: Item } }[]>,
              ).flat();
              for (const request of requests) {
                const item = request.PutRequest?.Item;
                stats.tableWriteUnits += item ? kb(itemSize(item)) : 1;
                stats.gsiWriteUnits += this.gsiUnits(undefined, item);
              }
            } else {
              const attributes = output.Attributes as Item | undefined;
              let after: Item | undefined;
              if (command === 'PutItemCommand') after = input.Item as Item;
              else if (command === 'UpdateItemCommand') after = attributes ?? before;
              const beforeSize = before ? itemSize(before) : 0;
              const afterSize = after ? itemSize(after) : 0;
              stats.tableWriteUnits += reported || kb(Math.max(beforeSize, afterSize));
              stats.gsiWriteUnits += this.gsiUnits(before, after);
              if (cacheKey) {
                if (command === 'DeleteItemCommand') this.items.delete(cacheKey);
                else if (after) this.items.set(cacheKey, after);
              }
            }
          }
          return result;
        } catch (error) {
          if ((error as Error).name === 'ConditionalCheckFailedException') {
            stats.conditionalFailures++;
            // DynamoDB bills a failed conditional write by the size of the item it looked at.
            stats.tableWriteUnits += before ? kb(itemSize(before)) : 1;
          }
          throw error;
        }
      },
      { step: 'initialize', name: 'benchRequestCounter' },
    );
    return client;
  }

  /** Adds the counting middleware to an SQS client. */
  instrumentSqs(client: SQSClient, source: Source): SQSClient {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (!this.enabled) return next(args);
        const command = (context.commandName ?? 'unknown').replace(/Command$/, '');
        const stats = this.bucket(source, `SQS:${command}`);
        stats.requests++;
        const input = args.input as { Entries?: unknown[] };
        const result = await next(args);
        if (command === 'ReceiveMessage') {
          const received = ((result.output as { Messages?: unknown[] }).Messages ?? []).length;
          stats.messages += received;
          if (received === 0) stats.emptyReceives++;
        } else if (command.endsWith('Batch')) {
          stats.messages += input.Entries?.length ?? 0;
        } else {
          stats.messages++;
        }
        return result;
      },
      { step: 'initialize', name: 'benchRequestCounter' },
    );
    return client;
  }

  /** A copy of the counts: `{ "source|service:op": stats }`. */
  snapshot(): Map<string, OpStats> {
    return new Map([...this.stats].map(([k, v]) => [k, { ...v }]));
  }
}

export interface Totals {
  dynamodbReads: number;
  dynamodbReadUnits: number;
  dynamodbWrites: number;
  dynamodbWriteUnits: number;
  dynamodbGsiWriteUnits: number;
  dynamodbConditionalFailures: number;
  dynamodbItemsRead: number;
  /** Billed SQS requests, idle (empty) receives excluded. */
  sqsRequests: number;
  sqsEmptyReceives: number;
  /** `service:Op` → requests (empty receives excluded) */
  byOperation: Record<string, number>;
  /** `source` → `service:Op` → requests */
  bySource: Record<string, Record<string, number>>;
}

/** Sums a snapshot, optionally only for some sources. */
export function totals(snapshot: Map<string, OpStats>, sources?: readonly Source[]): Totals {
  const out: Totals = {
    dynamodbReads: 0,
    dynamodbReadUnits: 0,
    dynamodbWrites: 0,
    dynamodbWriteUnits: 0,
    dynamodbGsiWriteUnits: 0,
    dynamodbConditionalFailures: 0,
    dynamodbItemsRead: 0,
    sqsRequests: 0,
    sqsEmptyReceives: 0,
    byOperation: {},
    bySource: {},
  };
  for (const [id, stats] of snapshot) {
    const [source = '', op = ''] = id.split('|');
    if (sources && !sources.includes(source as Source)) continue;
    const [service = '', command = ''] = op.split(':');
    const billed = stats.requests - stats.emptyReceives;
    if (service === 'DynamoDB') {
      if (READS.has(`${command}Command`)) out.dynamodbReads += stats.requests;
      else if (WRITES.has(`${command}Command`)) out.dynamodbWrites += stats.requests;
      out.dynamodbReadUnits += stats.readUnits;
      out.dynamodbWriteUnits += stats.tableWriteUnits + stats.gsiWriteUnits;
      out.dynamodbGsiWriteUnits += stats.gsiWriteUnits;
      out.dynamodbConditionalFailures += stats.conditionalFailures;
      out.dynamodbItemsRead += stats.itemsRead;
    } else if (service === 'SQS') {
      out.sqsRequests += billed;
      out.sqsEmptyReceives += stats.emptyReceives;
    }
    if (billed > 0) {
      out.byOperation[op] = (out.byOperation[op] ?? 0) + billed;
      out.bySource[source] ??= {};
      const bySource = out.bySource[source];
      bySource[op] = (bySource[op] ?? 0) + billed;
    }
  }
  return out;
}

/** Every number in `t` divided by `runs` (for per-run figures). */
export function perRun(t: Totals, runs: number): Totals {
  const div = (n: number) => n / runs;
  const map = (r: Record<string, number>) =>
    Object.fromEntries(Object.entries(r).map(([k, v]) => [k, div(v)]));
  return {
    dynamodbReads: div(t.dynamodbReads),
    dynamodbReadUnits: div(t.dynamodbReadUnits),
    dynamodbWrites: div(t.dynamodbWrites),
    dynamodbWriteUnits: div(t.dynamodbWriteUnits),
    dynamodbGsiWriteUnits: div(t.dynamodbGsiWriteUnits),
    dynamodbConditionalFailures: div(t.dynamodbConditionalFailures),
    dynamodbItemsRead: div(t.dynamodbItemsRead),
    sqsRequests: div(t.sqsRequests),
    sqsEmptyReceives: div(t.sqsEmptyReceives),
    byOperation: map(t.byOperation),
    bySource: Object.fromEntries(Object.entries(t.bySource).map(([k, v]) => [k, map(v)])),
  };
}

/** The task item's indexes as lib/store/keys.ts declares them; `attrs` undefined = projection ALL. */
const TASK_INDEXES: { pk: string; keys: string[]; attrs?: string[] }[] = [
  { pk: ATTR.orgTypePk, keys: [ATTR.orgTypePk, ATTR.orgTypeSk] },
  {
    pk: ATTR.duePk,
    keys: [ATTR.duePk, ATTR.dueAt],
    attrs: [ATTR.pk, ATTR.sk, ATTR.duePk, ATTR.dueAt, ...DUE_PROJECTION],
  },
];

function pick(item: Item, attrs: readonly string[]): Item {
  const out: Item = {};
  for (const attr of attrs) if (item[attr] !== undefined) out[attr] = item[attr];
  return out;
}
