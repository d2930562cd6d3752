import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { resetConfigForTests } from '../lib/config';
import { tableDefinition } from '../lib/store/keys';
import { type Emulator, startDynalite, startFauxqs } from './emulators';
import { createHttpAdapter, type Mount } from './http-adapter';

export interface LocalOptions {
  /** 0 picks a free port. @default 8080 */
  port?: number;
  /** Keep DynamoDB data on disk between restarts. In memory when absent. */
  dataDir?: string | undefined;
  /** Extra environment for the handlers (set before they load). */
  env?: Record<string, string>;
}

export interface LocalRota {
  url: string;
  env: Record<string, string>;
  stop(): Promise<void>;
}

export const LOCAL_TABLE = 'rota';

/**
 * Local mode: the Lambda handlers, unchanged, behind a loopback HTTP server, with
 * DynamoDB from dynalite and SQS from fauxqs, all in this one process.
 */
export async function startLocal(options: LocalOptions = {}): Promise<LocalRota> {
  if (options.dataDir) mkdirSync(options.dataDir, { recursive: true });
  const emulators: Emulator[] = [];
  const stopAll = async () => {
    await Promise.all(emulators.map((e) => e.stop()));
  };
  try {
    const dynamo = await startDynalite({ path: options.dataDir });
    emulators.push(dynamo);
    const sqs = await startFauxqs();
    emulators.push(sqs);

    const env: Record<string, string> = {
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      ROTA_TABLE_NAME: LOCAL_TABLE,
      ROTA_DYNAMODB_ENDPOINT: dynamo.endpoint,
      ROTA_SQS_ENDPOINT: sqs.endpoint,
      // Local mode runs against your own machine: loopback targets are allowed here, and
      // refused on AWS unless the operator opens them.
      ROTA_ALLOWED_TARGET_HOSTS: 'localhost,127.0.0.1,::1',
      ...options.env,
    };
    Object.assign(process.env, env);
    resetConfigForTests();

    const { runtime } = await import('../lib/runtime');
    await ensureTable(runtime().dynamo, LOCAL_TABLE);

    const mounts: Mount[] = [
      { prefix: '/api/v2/tasks', handler: (await import('../functions/tasks-api')).handler },
      { prefix: '/api/v2/openapi.json', handler: (await import('../functions/meta-api')).handler },
      { prefix: '/health', handler: (await import('../functions/meta-api')).handler },
    ];
    const server = createServer(createHttpAdapter(mounts));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 8080, '127.0.0.1', () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    return {
      url: `http://127.0.0.1:${port}`,
      env,
      stop: async () => {
        await closeServer(server);
        await stopAll();
      },
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

async function ensureTable(client: DynamoDBClient, name: string): Promise<void> {
  try {
    await client.send(new DescribeTableCommand({ TableName: name }));
  } catch (error) {
    if ((error as Error).name !== 'ResourceNotFoundException') throw error;
    await client.send(new CreateTableCommand(tableDefinition(name)));
  }
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
