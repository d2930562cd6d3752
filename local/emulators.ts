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
        server.close(() => resolve());
        // dynalite keeps keep-alive sockets open; close them so stop() returns promptly.
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      }),
  };
}

/** In-process SQS (fauxqs 2.x: delay, visibility, redrive and long polling; in memory). */
export async function startFauxqs(options: { port?: number } = {}): Promise<Emulator> {
  const app = buildApp({ logger: false });
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
