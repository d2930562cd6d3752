import type { AddressInfo } from 'node:net';
import dynalite from 'dynalite';
import { buildApp } from 'fauxqs';

/** A local AWS-compatible endpoint, bound to loopback only. */
export interface Emulator {
  endpoint: string;
  stop(): Promise<void>;
}

/**
 * In-process DynamoDB. `path` keeps the data on disk between restarts; tables
 * become ACTIVE at once instead of after dynalite's default 500 ms.
 */
export async function startDynalite(
  options: { path?: string | undefined; port?: number } = {},
): Promise<Emulator> {
  const server = dynalite({
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
    ...(options.path ? { path: options.path } : {}),
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        // dynalite closes its database when the server closes, and throws (taking the
        // process down) from a request still being answered then: so requests in flight
        // are let finish, idle keep-alive sockets are closed at once, and only a socket
        // still busy after the grace is cut.
        const http = server as unknown as { closeIdleConnections(): void; closeAllConnections(): void };
        const cut = setTimeout(() => http.closeAllConnections(), DYNALITE_STOP_GRACE_MS);
        server.close(() => {
          clearTimeout(cut);
          resolve();
        });
        http.closeIdleConnections();
      }),
  };
}

/** How long stop() waits for dynalite's requests in flight before it cuts their sockets. */
const DYNALITE_STOP_GRACE_MS = 5_000;

/**
 * In-process SQS (fauxqs 2.x: delay, visibility, redrive and long polling). With
 * `dataDir`, queues and messages (ready, delayed and in flight) live in SQLite there,
 * written through at once, so they survive a SIGKILL; without it, in memory.
 */
export async function startFauxqs(
  options: { port?: number; dataDir?: string | undefined } = {},
): Promise<Emulator> {
  const persistent = options.dataDir ? await persistentStores(options.dataDir) : undefined;
  const app = buildApp({ logger: false, ...(persistent ? { stores: persistent.stores } : {}) });
  if (persistent) app.addHook('preClose', () => persistent.close());
  await app.listen({ port: options.port ?? 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: async () => {
      app.server.closeAllConnections?.();
      await app.close();
    },
  };
}

/** What Rota uses of fauxqs' internal store and persistence classes (fauxqs 2.4.1). */
interface PersistenceManager {
  load(sqs: unknown, sns: unknown, s3: unknown): void;
  close(): void;
}
interface SqsStore {
  persistence?: PersistenceManager;
  allQueues(): Iterable<{ persistence?: PersistenceManager }>;
}
interface PersistableStore {
  persistence?: PersistenceManager;
}
type Stores = NonNullable<NonNullable<Parameters<typeof buildApp>[0]>['stores']>;

/**
 * The stores `startFauxqs({dataDir})` builds, without its listener: `startFauxqs` always
 * binds 0.0.0.0, and `buildApp` wires no persistence of its own. These classes are
 * internal to fauxqs, imported from beside its resolved entry point, so the version is
 * pinned in package.json and test/integration/fauxqs-persistence.test.ts fails if this
 * wiring stops surviving a SIGKILL.
 */
async function persistentStores(dataDir: string): Promise<{ stores: Stores; close: () => void }> {
  const entry = import.meta.resolve('fauxqs');
  const internal = async <T>(path: string, name: string): Promise<new (...args: never[]) => T> => {
    const module = (await import(new URL(path, entry).href)) as Record<string, unknown>;
    const exported = module[name];
    if (typeof exported !== 'function') throw new Error(`fauxqs has no ${name} in ${path}`);
    return exported as new (
      ...args: never[]
    ) => T;
  };
  const [Persistence, Sqs, Sns, S3] = await Promise.all([
    internal<PersistenceManager>('./persistence.js', 'PersistenceManager'),
    internal<SqsStore>('./sqs/sqsStore.js', 'SqsStore'),
    internal<PersistableStore>('./sns/snsStore.js', 'SnsStore'),
    internal<PersistableStore>('./s3/s3Store.js', 'S3Store'),
  ]);
  const persistence = new (Persistence as unknown as new (dir: string) => PersistenceManager)(dataDir);
  const sqsStore = new Sqs();
  const snsStore = new Sns();
  const s3Store = new S3();
  // Load first, then attach: attaching before would write every loaded row back.
  persistence.load(sqsStore, snsStore, s3Store);
  sqsStore.persistence = persistence;
  snsStore.persistence = persistence;
  s3Store.persistence = persistence;
  for (const queue of sqsStore.allQueues()) queue.persistence = persistence;
  return {
    stores: { sqsStore, snsStore, s3Store } as unknown as Stores,
    close: () => persistence.close(),
  };
}
