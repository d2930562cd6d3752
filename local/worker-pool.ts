import {
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { asFunction } from '../lib/observability/aws-calls';
import { lambdaContext } from './http-adapter';

export type SqsHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | undefined>;

export interface WorkerPoolOptions {
  sqs: SQSClient;
  queueUrl: string;
  queueArn: string;
  handler: SqsHandler;
  /** Concurrent pollers: the local stand-in for the event source's maximumConcurrency. */
  workers: number;
  batchSize?: number;
  visibilityTimeoutSeconds?: number;
  functionName: string;
  /**
   * The construct's name for the function this pool feeds (`executor`). On AWS the event
   * source polls with that function's role, so the poller's own calls are recorded as its.
   */
  recordAs?: string;
  /** Lambda timeout handed to the handler through `getRemainingTimeInMillis`. */
  timeoutMs?: number;
  onError?: (error: unknown) => void;
}

/**
 * Behaves like Lambda's SQS event source: long-poll, hand the batch to the handler,
 * delete what succeeded and leave reported failures to reappear after the
 * visibility timeout (which is what sends them to the DLQ eventually).
 */
export function startWorkerPool(options: WorkerPoolOptions) {
  let running = true;
  const batchSize = options.batchSize ?? 5;
  const visibility = options.visibilityTimeoutSeconds ?? 120;

  const toRecord = (message: Message): SQSRecord => ({
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes: {
      ApproximateReceiveCount: message.Attributes?.ApproximateReceiveCount ?? '1',
      SentTimestamp: message.Attributes?.SentTimestamp ?? String(Date.now()),
      SenderId: message.Attributes?.SenderId ?? 'local',
      ApproximateFirstReceiveTimestamp:
        message.Attributes?.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: message.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: options.queueArn,
    awsRegion: 'us-east-1',
  });

  // Lambda's poller, not the handler, receives and deletes: it does so with the function's role.
  const poll = <T>(send: () => Promise<T>) =>
    options.recordAs ? asFunction(options.recordAs, send, 'event-source') : send();

  const worker = async () => {
    while (running) {
      try {
        const out = await poll(() =>
          options.sqs.send(
            new ReceiveMessageCommand({
              QueueUrl: options.queueUrl,
              MaxNumberOfMessages: batchSize,
              WaitTimeSeconds: 1,
              VisibilityTimeout: visibility,
              MessageSystemAttributeNames: ['All'],
            }),
          ),
        );
        const messages = out.Messages ?? [];
        if (!messages.length || !running) continue;
        const records = messages.map(toRecord);
        const result = await options.handler(
          { Records: records },
          lambdaContext(options.functionName, options.timeoutMs ?? visibility * 1000),
        );
        const failed = new Set((result?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
        const done = records.filter((r) => !failed.has(r.messageId));
        if (done.length) {
          await poll(() =>
            options.sqs.send(
              new DeleteMessageBatchCommand({
                QueueUrl: options.queueUrl,
                Entries: done.map((r, i) => ({ Id: String(i), ReceiptHandle: r.receiptHandle })),
              }),
            ),
          );
        }
      } catch (error) {
        if (!running) return;
        options.onError?.(error);
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  };

  const workers = Array.from({ length: options.workers }, () => worker());
  return {
    async stop() {
      running = false;
      await Promise.allSettled(workers);
    },
  };
}

/** Calls `tick` every `intervalMs`, never overlapping itself, like a rate() rule firing a Lambda. */
export function startTicker(
  tick: () => Promise<unknown>,
  intervalMs: number,
  onError?: (error: unknown) => void,
) {
  let running = true;
  const loop = (async () => {
    while (running) {
      const started = Date.now();
      try {
        await tick();
      } catch (error) {
        onError?.(error);
      }
      const wait = Math.max(0, intervalMs - (Date.now() - started));
      await new Promise((r) => setTimeout(r, wait));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
    },
  };
}
