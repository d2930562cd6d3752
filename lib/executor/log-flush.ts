import type { RunLogEntry } from '../run/model';
import type { RunLog } from './run-log';

/** The flusher's clock: a one-shot timer that can be called off. */
export interface FlushTimers {
  after(ms: number, run: () => void): () => void;
}

export const realTimers: FlushTimers = {
  after: (ms, run) => {
    const timer = setTimeout(run, ms);
    timer.unref?.();
    return () => clearTimeout(timer);
  },
};

/** Stores every line so far; true when it held, false when the run is no longer ours to write. */
export type WriteLiveLog = (entries: RunLogEntry[]) => Promise<boolean>;

export interface LogFlushOptions {
  /** How long a new line may wait before it is flushed; also the least time between two flushes. */
  delayMs: number;
  onError(error: unknown): void;
}

/**
 * Flushes a started run's log while it runs, so reads show each line within `delayMs`
 * of being written. A line arms one timer; lines that come before it fires ride on the
 * same write, and the next line after a flush arms the next, so flushes are at least
 * `delayMs` apart and a run that ends before its first timer fires never pays for one.
 * A flush that fails is logged and left to the next one; a flush the claim refuses
 * (the run was taken over or ended) stops the flushing: the heartbeat aborts the run.
 */
export class LogFlusher {
  private flushed = 0;
  private cancelTimer: (() => void) | undefined;
  private inFlight: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly log: RunLog,
    private readonly write: WriteLiveLog,
    private readonly options: LogFlushOptions,
    private readonly timers: FlushTimers = realTimers,
  ) {}

  start(): void {
    this.log.onLine(() => this.arm());
    this.arm();
  }

  /** No flush after this one; resolves when a flush in flight has answered, so the final write comes after it. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.log.onLine(undefined);
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    await this.idle();
  }

  /** Resolves when no flush is in flight. */
  async idle(): Promise<void> {
    await this.inFlight;
  }

  /** How many lines the store holds from this executor. */
  get flushedLines(): number {
    return this.flushed;
  }

  private arm(): void {
    if (this.stopped || this.cancelTimer || this.inFlight || !this.pending()) return;
    this.cancelTimer = this.timers.after(this.options.delayMs, () => {
      this.cancelTimer = undefined;
      this.inFlight = this.flush().finally(() => {
        this.inFlight = undefined;
        this.arm();
      });
    });
  }

  private pending(): boolean {
    return this.log.entries.length > this.flushed;
  }

  private async flush(): Promise<void> {
    if (this.stopped || !this.pending()) return;
    const upTo = this.log.entries.length;
    try {
      if (await this.write(this.log.entries.slice(0, upTo))) this.flushed = upTo;
      else this.stopped = true;
    } catch (error) {
      this.options.onError(error);
    }
  }
}
