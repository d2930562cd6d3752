import {
  ChangeMessageVisibilityBatchCommand,
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
  /**
   * How long a received batch stays invisible. While the handler runs, the pool keeps
   * extending it, so a long run is never handed out twice, while the messages of a pool
   * that died come back this soon.
   */
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

export interface WorkerPool {
  /** Batches being handled right now. */
  inFlight(): number;
  /**
   * Stops polling and waits for the batches in hand, at most `graceMs`. True when all
   * of them finished; otherwise their messages come back after the visibility timeout.
   */
  stop(graceMs?: number): Promise<boolean>;
}

/**
 * Behaves like Lambda's SQS event source: long-poll, hand the batch to the handler,
 * delete what succeeded and leave reported failures to reappear after the
 * visibility timeout (which is what sends them to the DLQ eventually).
 */
export function startWorkerPool(options: WorkerPoolOptions): WorkerPool {
  let running = true;
  let inFlight = 0;
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
  // Extending visibility is local mode's own doing (Lambda's poller does not), so it is not recorded.
  const poll = <T>(send: () => Promise<T>) =>
    options.recordAs ? asFunction(options.recordAs, send, 'event-source') : send();

  const returnToQueue = (messages: Message[]) =>
    options.sqs
      .send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: options.queueUrl,
          Entries: messages.map((m, i) => ({
            Id: String(i),
            ReceiptHandle: m.ReceiptHandle ?? '',
            VisibilityTimeout: 0,
          })),
        }),
      )
      .catch((error) => options.onError?.(error));

  /** Keeps a batch invisible while its handler runs. */
  const keepInvisible = (records: SQSRecord[]) => {
    const timer = setInterval(
      () => {
        void options.sqs
          .send(
            new ChangeMessageVisibilityBatchCommand({
              QueueUrl: options.queueUrl,
              Entries: records.map((r, i) => ({
                Id: String(i),
                ReceiptHandle: r.receiptHandle,
                VisibilityTimeout: visibility,
              })),
            }),
          )
          .catch((error) => options.onError?.(error));
      },
      (visibility * 1000) / 3,
    );
    timer.unref?.();
    return () => clearInterval(timer);
  };

  const handle = async (messages: Message[]) => {
    const records = messages.map(toRecord);
    const stopExtending = keepInvisible(records);
    try {
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
    } finally {
      stopExtending();
    }
  };

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
        if (!messages.length) continue;
        if (!running) {
          // Stopped while this poll was out: hand the batch back for the next start.
          await returnToQueue(messages);
          continue;
        }
        inFlight++;
        try {
          await handle(messages);
        } finally {
          inFlight--;
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
    inFlight: () => inFlight,
    async stop(graceMs = Number.POSITIVE_INFINITY) {
      running = false;
      const drained = Promise.allSettled(workers).then(() => true);
      if (!Number.isFinite(graceMs)) return drained;
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), graceMs);
      });
      try {
        return await Promise.race([drained, late]);
      } finally {
        clearTimeout(timer);
      }
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
  let wake: (() => void) | undefined;
  const loop = (async () => {
    while (running) {
      const started = Date.now();
      try {
        await tick();
      } catch (error) {
        onError?.(error);
      }
      const wait = Math.max(0, intervalMs - (Date.now() - started));
      // A stop cuts the wait short, so stopping never waits out a long interval.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, wait);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  })();
  return {
    async stop() {
      running = false;
      wake?.();
      await loop;
    },
  };
}
