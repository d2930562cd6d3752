import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CreateQueueCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, describe, expect, it } from 'vitest';
import { sqsClient, waitFor } from '../support/emulators';

const ROTA_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** One fauxqs process on `dataDir`; resolves once it listens. */
async function startProcess(dataDir: string): Promise<{ child: ChildProcess; endpoint: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/fauxqs-process.ts', dataDir], {
    cwd: ROTA_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  const endpoint = await waitFor(
    () => {
      if (child.exitCode !== null) throw new Error(`fauxqs exited: ${output}`);
      return /"endpoint":"([^"]+)"/.exec(output)?.[1];
    },
    { timeoutMs: 30_000, what: 'fauxqs to listen' },
  );
  return { child, endpoint };
}

function sigkill(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

/** Listening sockets on `port` from /proc, as hex `address:port` (IPv4 and IPv6). */
function listenersOn(port: number): string[] {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  return ['/proc/net/tcp', '/proc/net/tcp6'].flatMap((file) =>
    readFileSync(file, 'utf8')
      .split('\n')
      .slice(1)
      .map((line) => line.trim().split(/\s+/))
      // st 0A is LISTEN.
      .filter((cols) => cols[1]?.endsWith(`:${hexPort}`) && cols[3] === '0A')
      .map((cols) => cols[1] ?? ''),
  );
}

async function receiveBodies(sqs: SQSClient, queueUrl: string, want: number, timeoutMs: number) {
  const bodies: string[] = [];
  await waitFor(
    async () => {
      const out = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
      );
      bodies.push(...(out.Messages ?? []).map((m: Message) => m.Body ?? ''));
      return bodies.length >= want ? true : undefined;
    },
    { timeoutMs, what: `${want} messages` },
  );
  return bodies.sort();
}

describe.runIf(process.platform === 'linux')('fauxqs on a data dir (local mode --data-dir)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'rota-fauxqs-'));
  const children: ChildProcess[] = [];
  afterAll(async () => {
    for (const child of children) await sigkill(child);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('listens on 127.0.0.1 only, and keeps immediate, delayed and in-flight messages across a SIGKILL', async () => {
    const first = await startProcess(dataDir);
    children.push(first.child);
    const port = Number(new URL(first.endpoint).port);
    expect(new URL(first.endpoint).hostname).toBe('127.0.0.1');
    // 0100007F is 127.0.0.1; a wildcard bind would show 00000000 (or :: in tcp6).
    expect(listenersOn(port)).toEqual([`0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`]);

    const sqs = sqsClient(first.endpoint);
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'durable' }));
    const queueUrl = QueueUrl ?? '';
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'immediate' }));
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'delayed', DelaySeconds: 4 }));
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'in flight' }));
    // Take two messages in flight (received, never deleted) for 3 s; one of them goes back below.
    const taken = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 2, VisibilityTimeout: 3 }),
    );
    expect(taken.Messages?.length).toBe(2);
    sqs.destroy();

    await sigkill(first.child);
    const second = await startProcess(dataDir);
    children.push(second.child);
    expect(listenersOn(Number(new URL(second.endpoint).port))).toHaveLength(1);
    const again = sqsClient(second.endpoint);
    // The queue URL names the old port; fauxqs looks queues up by name, as SQS does by URL.
    const bodies = await receiveBodies(again, queueUrl, 3, 20_000);
    again.destroy();
    expect(bodies).toEqual(['delayed', 'immediate', 'in flight']);
  });
});
