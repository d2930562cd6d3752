import type { RunLogEntry } from '../run/model';

export const DEFAULT_LOG_LIMIT_BYTES = 64 * 1024;

/**
 * A run's log, bounded so a chatty runner can never push the run item past
 * DynamoDB's 400 KB limit. Past the limit one marker line is added and the rest
 * is dropped.
 */
export class RunLog {
  readonly entries: RunLogEntry[] = [];
  private bytes = 0;
  private truncated = false;
  private listener: (() => void) | undefined;

  constructor(
    private readonly limitBytes = DEFAULT_LOG_LIMIT_BYTES,
    private readonly now: () => number = Date.now,
  ) {}

  add(message: string): void {
    if (this.truncated) return;
    const size = Buffer.byteLength(message) + 32;
    if (this.bytes + size > this.limitBytes) {
      this.truncated = true;
      this.entries.push({
        time: this.stamp(),
        message: `log truncated: a run keeps at most ${this.limitBytes} bytes of log`,
      });
    } else {
      this.bytes += size;
      this.entries.push({ time: this.stamp(), message });
    }
    this.listener?.();
  }

  /** Calls `listener` after each line is kept (the live-log flush schedules on it). */
  onLine(listener: (() => void) | undefined): void {
    this.listener = listener;
  }

  private stamp(): string {
    return new Date(this.now()).toISOString();
  }
}
