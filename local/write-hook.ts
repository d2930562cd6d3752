import { createServer, type IncomingMessage, request, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type AttributeValue, DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { ItemChange } from '../lib/events/derive';
import { LOCAL_CREDENTIALS } from './config';
import type { Emulator } from './emulators';

/**
 * Local mode's stand-in for DynamoDB Streams (dynalite has none): a loopback proxy in
 * front of the table's endpoint that every client talks to, the bundles' worker
 * included. A write to a task's partition is read before and after, one write per item
 * at a time, and the two images go to `onChange`, the change a stream record would
 * carry. Serializing each item's writes keeps every status a run passes through
 * (started, then succeeded), which a poll of the table would miss.
 */
type Key = Record<string, AttributeValue>;
interface Written {
  table: string;
  key: Key;
}

const WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'TransactWriteItems']);

const keyOf = (item: Key | undefined): Key | undefined =>
  item?.PK && item.SK ? { PK: item.PK, SK: item.SK } : undefined;

/** The items a write request touches, by table and key. */
export function writtenItems(operation: string, input: Record<string, unknown>): Written[] {
  const out: Written[] = [];
  const add = (table: unknown, key: Key | undefined) => {
    if (typeof table === 'string' && key) out.push({ table, key });
  };
  if (operation === 'PutItem') add(input.TableName, keyOf(input.Item as Key));
  if (operation === 'UpdateItem' || operation === 'DeleteItem') add(input.TableName, keyOf(input.Key as Key));
  if (operation === 'BatchWriteItem') {
    for (const [table, requests] of Object.entries((input.RequestItems ?? {}) as Record<string, unknown[]>)) {
      for (const r of requests as { PutRequest?: { Item: Key }; DeleteRequest?: { Key: Key } }[]) {
        add(table, keyOf(r.PutRequest?.Item ?? r.DeleteRequest?.Key));
      }
    }
  }
  if (operation === 'TransactWriteItems') {
    for (const t of (input.TransactItems ?? []) as Record<
      string,
      { TableName?: string; Item?: Key; Key?: Key }
    >[]) {
      const write = t.Put ?? t.Update ?? t.Delete;
      if (write) add(write.TableName, keyOf(write.Item ?? write.Key));
    }
  }
  return out.filter(({ key }) => key.PK?.S?.startsWith('TASK#'));
}

export async function startWriteHook(
  target: string,
  onChange: (change: ItemChange) => void,
): Promise<Emulator> {
  const reader = new DynamoDBClient({
    endpoint: target,
    region: 'us-east-1',
    credentials: LOCAL_CREDENTIALS,
  });
  const read = async ({ table, key }: Written) => {
    const { Item } = await reader.send(
      new GetItemCommand({ TableName: table, Key: key, ConsistentRead: true }),
    );
    return Item ? unmarshall(Item) : undefined;
  };
  // Writes to one item go one at a time, so each one's before and after images are its
  // own; writes to other items do not wait for them (one queue for all would cap local
  // mode's throughput at one write and two reads at a time).
  const chains = new Map<string, Promise<unknown>>();
  const serialized = <T>(items: readonly Written[], work: () => Promise<T>): Promise<T> => {
    const keys = items.map(({ table, key }) => `${table}|${JSON.stringify(key)}`);
    const prior = Promise.all(keys.map((k) => chains.get(k)));
    const next = prior.then(work, work);
    const settled = next.catch(() => undefined);
    for (const k of keys) chains.set(k, settled);
    void settled.then(() => {
      for (const k of keys) if (chains.get(k) === settled) chains.delete(k);
    });
    return next;
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const operation =
        String(req.headers['x-amz-target'] ?? '')
          .split('.')
          .pop() ?? '';
      const written = WRITES.has(operation) ? parseWritten(operation, body) : [];
      if (written.length === 0) {
        forward(target, req, body, res).catch((error: unknown) => res.destroy(error as Error));
        return;
      }
      serialized(written, async () => {
        const before = await Promise.all(written.map(read));
        await forward(target, req, body, res);
        const after = await Promise.all(written.map(read));
        written.forEach((_, i) => {
          const oldImage = before[i];
          const newImage = after[i];
          if (JSON.stringify(oldImage) !== JSON.stringify(newImage)) onChange({ oldImage, newImage });
        });
      }).catch((error: unknown) => res.destroy(error as Error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        reader.destroy();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function parseWritten(operation: string, body: Buffer): Written[] {
  try {
    return writtenItems(operation, JSON.parse(body.toString('utf8')) as Record<string, unknown>);
  } catch {
    return [];
  }
}

/** Sends the request on unchanged and copies the answer back; resolves once it is answered. */
function forward(target: string, req: IncomingMessage, body: Buffer, res: ServerResponse): Promise<void> {
  const url = new URL(target);
  return new Promise((resolve, reject) => {
    const out = request(
      { host: url.hostname, port: url.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 500, answer.headers);
        answer.pipe(res);
        answer.on('end', () => resolve());
        answer.on('error', reject);
      },
    );
    out.on('error', reject);
    out.end(body);
  });
}
