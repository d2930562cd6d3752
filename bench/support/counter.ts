import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { ATTR, tableDefinition } from '../../lib/store/keys';
import { type IndexShape, type Item, indexesOf, itemSize, unitsFor, writeUnits } from './write-units';

/**
 * Counts AWS requests on real SDK clients with one middleware per client: by
 * service + command name, per "source" (scheduler, executor, event source, …).
 *
 * DynamoDB: the middleware adds `ReturnConsumedCapacity: 'INDEXES'` to every call.
 * - read units: as reported (Query includes the index it read), at least DynamoDB's
 *   minimum of 1 unit (0.5 eventually consistent) per request;
 * - write units: computed, not reported (dynalite reports neither the GSI part of a
 *   write nor anything for a write that failed its condition). Around every single-item
 *   write the middleware reads the item before and after it (consistent GetItem on an
 *   uncounted client, the item's writes serialised meanwhile so nothing interleaves) and
 *   prices the pair with `writeUnits` (support/write-units.ts): the table part plus each
 *   GSI's, the GSIs and their projections taken from `tableDefinition` (lib/store/keys.ts,
 *   which infra/rota-table.ts deploys). That holds whatever the write asked back
 *   (`ReturnValues: NONE` included). A failed conditional write is billed by the item it
 *   looked at, and writes no index.
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

export { itemSize };

/** Every table Rota creates has the same indexes; the name does not change them. */
const INDEXES: readonly IndexShape[] = indexesOf(tableDefinition('bench'));

export class RequestCounter {
  /** `${source}|${service}:${command}` → stats */
  private readonly stats = new Map<string, OpStats>();
  /** Per item key, the tail of its instrumented writes: read-before, write and read-after run one at a time. */
  private readonly itemQueues = new Map<string, Promise<unknown>>();
  /** Index write units by index name (all sources), for the report. */
  private readonly indexUnits = new Map<string, number>();
  enabled = true;

  reset(): void {
    this.stats.clear();
    this.indexUnits.clear();
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

  private addWrite(stats: OpStats, before: Item | undefined, after: Item | undefined): void {
    const units = writeUnits({ itemBefore: before, itemAfter: after, indexes: INDEXES });
    stats.tableWriteUnits += units.table;
    for (const [name, u] of Object.entries(units.byIndex)) {
      stats.gsiWriteUnits += u;
      this.indexUnits.set(name, (this.indexUnits.get(name) ?? 0) + u);
    }
  }

  /** Index write units by index name since the last reset. */
  indexWriteUnits(): Record<string, number> {
    return Object.fromEntries(this.indexUnits);
  }

  /** Runs `work` after every earlier instrumented write on the same item. */
  private serialised<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.itemQueues.get(key) ?? Promise.resolve();
    const run = previous.then(work, work);
    const tail = run.catch(() => undefined);
    this.itemQueues.set(key, tail);
    void tail.then(() => {
      if (this.itemQueues.get(key) === tail) this.itemQueues.delete(key);
    });
    return run;
  }

  /**
   * Adds the counting middleware to a DynamoDB client. `reader`, an uncounted client on
   * the same endpoint, reads each written item before and after its write.
   */
  instrumentDynamo(client: DynamoDBClient, source: Source, reader?: DynamoDBClient): DynamoDBClient {
    const read = async (table: string, key: Item): Promise<Item | undefined> => {
      if (!reader) return undefined;
      const out = await reader.send(new GetItemCommand({ TableName: table, Key: key, ConsistentRead: true }));
      return out.Item;
    };
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
        if (READS.has(command)) {
          const result = await next(args);
          const output = result.output as unknown as Record<string, unknown>;
          const capacity = output.ConsumedCapacity as
            | { CapacityUnits?: number }
            | { CapacityUnits?: number }[]
            | undefined;
          const reported = Array.isArray(capacity)
            ? capacity.reduce((sum, c) => sum + (c.CapacityUnits ?? 0), 0)
            : (capacity?.CapacityUnits ?? 0);
          stats.readUnits += Math.max(input.ConsistentRead ? 1 : 0.5, reported);
          if (command === 'GetItemCommand') {
            if (output.Item) stats.itemsRead++;
          } else {
            const items = (output.Items as Item[] | undefined) ?? [];
            stats.itemsRead += typeof output.Count === 'number' ? output.Count : items.length;
          }
          return result;
        }
        if (command === 'BatchWriteItemCommand') {
          // Seeding, cleanup and partition deletes: puts of new items, deletes of items the
          // request names only by key (read first, so their index entries are counted).
          const batches = (input.RequestItems ?? {}) as Record<
            string,
            { PutRequest?: { Item: Item }; DeleteRequest?: { Key: Item } }[]
          >;
          const requests = Object.entries(batches).flatMap(([name, rs]) => rs.map((r) => ({ name, ...r })));
          // Unprocessed items are retried by the caller and counted again: close enough for seeding.
          const befores = await Promise.all(
            requests.map((r) => (r.DeleteRequest ? read(r.name, r.DeleteRequest.Key) : undefined)),
          );
          const result = await next(args);
          requests.forEach((r, i) => {
            this.addWrite(stats, befores[i], r.PutRequest?.Item);
          });
          return result;
        }
        if (!WRITES.has(command)) return next(args);
        const key =
          command === 'PutItemCommand'
            ? keyOfItem(input.Item as Item | undefined)
            : (input.Key as Item | undefined);
        if (!key || command === 'TransactWriteItemsCommand') return next(args);
        return this.serialised(`${table}|${JSON.stringify(key)}`, async () => {
          const before = await read(table, key);
          try {
            const result = await next(args);
            const after = command === 'DeleteItemCommand' ? undefined : await read(table, key);
            this.addWrite(stats, before, after);
            return result;
          } catch (error) {
            if ((error as Error).name === 'ConditionalCheckFailedException') {
              stats.conditionalFailures++;
              // DynamoDB bills a failed conditional write by the size of the item it looked at.
              stats.tableWriteUnits += before ? unitsFor(itemSize(before)) : 1;
            }
            throw error;
          }
        });
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

function keyOfItem(item: Item | undefined): Item | undefined {
  const pk = item?.[ATTR.pk];
  const sk = item?.[ATTR.sk];
  return pk && sk ? { [ATTR.pk]: pk, [ATTR.sk]: sk } : undefined;
}
