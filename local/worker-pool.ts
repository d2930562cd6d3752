import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { asFunction } from '../lib/observability/aws-calls';
import { lambdaContext } from './lambda-context';

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
   * The event source's batching window: a poller that received fewer than `batchSize`
   * messages keeps gathering for up to this long before it invokes, as Lambda's does with
   * MaximumBatchingWindowInSeconds. @default 0 (invoke as soon as a receive returns)
   */
  batchingWindowMs?: number;
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
  const pool = new SqsWorkerPool(options);
  pool.start();
  return pool;
}

class SqsWorkerPool implements WorkerPool {
  private running = true;
  private batches = 0;
  private workers: Promise<void>[] = [];
  private readonly batchSize: number;
  private readonly visibility: number;
  private readonly windowMs: number;

  constructor(private readonly options: WorkerPoolOptions) {
    this.batchSize = options.batchSize ?? 5;
    this.windowMs = Math.max(0, options.batchingWindowMs ?? 0);
    // The first messages of a batch wait out the window before the handler keeps them invisible.
    this.visibility = (options.visibilityTimeoutSeconds ?? 120) + Math.ceil(this.windowMs / 1000);
  }

  start(): void {
    this.workers = Array.from({ length: this.options.workers }, () => this.work());
  }

  inFlight(): number {
    return this.batches;
  }

  async stop(graceMs = Number.POSITIVE_INFINITY): Promise<boolean> {
    this.running = false;
    const drained = Promise.allSettled(this.workers).then(() => true);
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
  }

  private async work(): Promise<void> {
    while (this.running) {
      try {
        const messages = await this.gather(await this.receive(this.batchSize, 1));
        if (!messages.length) continue;
        if (!this.running) {
          // Stopped while this poll was out: hand the batch back for the next start.
          await this.returnToQueue(messages);
          continue;
        }
        this.batches++;
        try {
          await this.handle(messages);
        } finally {
          this.batches--;
        }
      } catch (error) {
        if (!this.running) return;
        this.options.onError?.(error);
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  }

  /** Tops a first receive up to a full batch until the batching window closes. */
  private async gather(first: Message[]): Promise<Message[]> {
    if (!first.length || this.windowMs === 0) return first;
    const batch = [...first];
    const closes = Date.now() + this.windowMs;
    while (this.running && batch.length < this.batchSize) {
      const left = closes - Date.now();
      if (left <= 0) break;
      // One-second long polls (a stop is never kept waiting longer) return as soon as a
      // message is there; in the window's last second, short polls 50 ms apart.
      const more = await this.receive(this.batchSize - batch.length, left >= 1000 ? 1 : 0);
      batch.push(...more);
      if (!more.length && left < 1000) await new Promise((r) => setTimeout(r, Math.min(50, left)));
    }
    return batch;
  }

  private async receive(max: number, waitSeconds: number): Promise<Message[]> {
    const { options } = this;
    const out = await this.poll(() =>
      options.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: options.queueUrl,
          MaxNumberOfMessages: max,
          WaitTimeSeconds: waitSeconds,
          VisibilityTimeout: this.visibility,
          MessageSystemAttributeNames: ['All'],
        }),
      ),
    );
    return out.Messages ?? [];
  }

  private async handle(messages: Message[]): Promise<void> {
    const { options } = this;
    const records = messages.map((message) => this.toRecord(message));
    const stopExtending = this.keepInvisible(records);
    try {
      const result = await options.handler(
        { Records: records },
        lambdaContext(options.functionName, options.timeoutMs ?? this.visibility * 1000),
      );
      const failed = new Set((result?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
      const done = records.filter((r) => !failed.has(r.messageId));
      if (done.length) {
        await this.poll(() =>
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
  }

  /**
   * Lambda's poller, not the handler, receives and deletes: it does so with the function's role.
   * Extending visibility is local mode's own doing (Lambda's poller does not), so it is not recorded.
   */
  private poll<T>(send: () => Promise<T>): Promise<T> {
    const { recordAs } = this.options;
    return recordAs ? asFunction(recordAs, send, 'event-source') : send();
  }

  private returnToQueue(messages: Message[]) {
    return this.setVisibility(
      messages.map((m) => m.ReceiptHandle ?? ''),
      0,
    );
  }

  /** Keeps a batch invisible while its handler runs. */
  private keepInvisible(records: SQSRecord[]): () => void {
    const timer = setInterval(
      () =>
        void this.setVisibility(
          records.map((r) => r.receiptHandle),
          this.visibility,
        ),
      (this.visibility * 1000) / 3,
    );
    timer.unref?.();
    return () => clearInterval(timer);
  }

  private setVisibility(receiptHandles: string[], visibilityTimeout: number): Promise<unknown> {
    return this.options.sqs
      .send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: this.options.queueUrl,
          Entries: receiptHandles.map((ReceiptHandle, i) => ({
            Id: String(i),
            ReceiptHandle,
            VisibilityTimeout: visibilityTimeout,
          })),
        }),
      )
      .catch((error) => this.options.onError?.(error));
  }

  private toRecord(message: Message): SQSRecord {
    return {
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
      eventSourceARN: this.options.queueArn,
      awsRegion: 'us-east-1',
    };
  }
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
