import { describe, expect, it } from 'vitest';
import { type FlushTimers, LogFlusher } from '../../lib/executor/log-flush';
import { RunLog } from '../../lib/executor/run-log';
import type { RunLogEntry } from '../../lib/run/model';

/** A hand-driven clock: timers fire only when the test moves time on. */
function manualClock() {
  let now = 0;
  let timers: { at: number; run: () => void; live: boolean }[] = [];
  const clock: FlushTimers & { now(): number; advance(ms: number): Promise<void>; pending(): number } = {
    now: () => now,
    after: (ms, run) => {
      const timer = { at: now + ms, run, live: true };
      timers.push(timer);
      return () => {
        timer.live = false;
      };
    },
    // Moves time on in 100 ms steps, firing due timers and letting their writes answer.
    advance: async (ms) => {
      const end = now + ms;
      while (now < end) {
        now = Math.min(end, now + 100);
        for (const timer of timers.filter((t) => t.live && t.at <= now)) {
          timer.live = false;
          timer.run();
        }
        timers = timers.filter((t) => t.live);
        for (let i = 0; i < 5; i++) await Promise.resolve();
      }
    },
    pending: () => timers.filter((t) => t.live).length,
  };
  return clock;
}

function setUp(options: { limitBytes?: number; write?: (entries: RunLogEntry[]) => Promise<boolean> } = {}) {
  const clock = manualClock();
  const log = new RunLog(options.limitBytes, clock.now);
  const writes: { at: number; entries: RunLogEntry[] }[] = [];
  const errors: unknown[] = [];
  const write = options.write ?? (async () => true);
  const flusher = new LogFlusher(
    log,
    (entries) => {
      // Every attempt counts, whatever it answers.
      writes.push({ at: clock.now(), entries: [...entries] });
      return write(entries);
    },
    { delayMs: 2_000, onError: (error) => errors.push(error) },
    clock,
  );
  return { clock, log, writes, errors, flusher };
}

const messages = (entries: RunLogEntry[]) => entries.map((e) => e.message);

describe('the live-log flush of a started run', () => {
  it('writes nothing for a run that logs and ends within the flush delay', async () => {
    const { clock, log, writes, flusher } = setUp();
    flusher.start();
    log.add('run started');
    await clock.advance(1_000);
    log.add('HTTP GET http://target/ -> 200 in 900 ms');
    await clock.advance(900);
    log.add('run succeeded');
    await flusher.stop();
    await clock.advance(10_000);
    expect(writes).toEqual([]);
    expect(clock.pending()).toBe(0);
  });

  it('coalesces the lines of one delay into one write, each line shown within the delay', async () => {
    const { clock, log, writes, flusher } = setUp();
    flusher.start();
    log.add('one');
    await clock.advance(500);
    log.add('two');
    await clock.advance(500);
    log.add('three');
    await clock.advance(1_000);
    expect(writes).toEqual([{ at: 2_000, entries: expect.any(Array) }]);
    expect(messages(writes[0]?.entries ?? [])).toEqual(['one', 'two', 'three']);
    expect(flusher.flushedLines).toBe(3);
  });

  it('flushes a later line within the delay of its writing, sending every line so far', async () => {
    const { clock, log, writes, flusher } = setUp();
    flusher.start();
    log.add('request sent');
    await clock.advance(2_000);
    // Quiet: no new line, no write.
    await clock.advance(3_000);
    expect(writes).toHaveLength(1);
    log.add('redirected');
    await clock.advance(2_000);
    expect(writes.map((w) => w.at)).toEqual([2_000, 7_000]);
    expect(messages(writes[1]?.entries ?? [])).toEqual(['request sent', 'redirected']);
  });

  it('never flushes more often than once per delay, however chatty the run', async () => {
    const { clock, log, writes, flusher } = setUp();
    flusher.start();
    for (let i = 0; i < 100; i++) {
      log.add(`line ${i}`);
      await clock.advance(100);
    }
    await flusher.stop();
    const gaps = writes.slice(1).map((w, i) => w.at - (writes[i]?.at ?? 0));
    expect(writes.length).toBeGreaterThanOrEqual(4);
    expect(writes.length).toBeLessThanOrEqual(5);
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(2_000);
  });

  it('keeps the log bound: no flush holds more than the limit and its truncation line', async () => {
    const { clock, log, writes, flusher } = setUp({ limitBytes: 1_024 });
    flusher.start();
    for (let i = 0; i < 60; i++) {
      log.add(`line ${i} ${'x'.repeat(40)}`);
      await clock.advance(100);
    }
    await clock.advance(2_000);
    const last = writes.at(-1)?.entries ?? [];
    expect(last).toEqual(log.entries);
    expect(last.at(-1)?.message).toMatch(/^log truncated: a run keeps at most 1024 bytes/);
    const kept = last.slice(0, -1).reduce((bytes, e) => bytes + Buffer.byteLength(e.message) + 32, 0);
    expect(kept).toBeLessThanOrEqual(1_024);
  });

  it('a failed flush is logged and retried by the next, without new lines', async () => {
    let fail = true;
    const { clock, log, writes, errors, flusher } = setUp({
      write: async () => {
        if (fail) {
          fail = false;
          throw new Error('throttled');
        }
        return true;
      },
    });
    flusher.start();
    log.add('one');
    await clock.advance(2_000);
    expect(errors).toHaveLength(1);
    expect(flusher.flushedLines).toBe(0);
    await clock.advance(2_000);
    expect(writes.map((w) => w.at)).toEqual([2_000, 4_000]);
    expect(flusher.flushedLines).toBe(1);
  });

  it('stops flushing once the claim refuses a flush (another executor holds the run)', async () => {
    const { clock, log, writes, flusher } = setUp({ write: async () => false });
    flusher.start();
    log.add('one');
    await clock.advance(2_000);
    log.add('two');
    await clock.advance(10_000);
    expect(writes).toHaveLength(1);
    expect(flusher.flushedLines).toBe(0);
  });

  it('stop waits for a flush in flight, so the final write comes after it', async () => {
    let answer: ((held: boolean) => void) | undefined;
    const { clock, log, flusher } = setUp({
      write: () =>
        new Promise<boolean>((resolve) => {
          answer = resolve;
        }),
    });
    flusher.start();
    log.add('one');
    await clock.advance(2_000);
    let stopped = false;
    const stopping = flusher.stop().then(() => {
      stopped = true;
    });
    await Promise.resolve();
    expect(stopped).toBe(false);
    answer?.(true);
    await stopping;
    expect(stopped).toBe(true);
    expect(clock.pending()).toBe(0);
  });
});
