import { type AttributeValue, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { type FlushTimers, LogFlusher } from '../lib/executor/log-flush';
import { DEFAULT_EXECUTOR_OPTIONS } from '../lib/executor/model';
import { RunLog } from '../lib/executor/run-log';
import { runSk, tableDefinition, taskPk } from '../lib/store/keys';
import { createRunStore } from '../lib/store/run-store';
import { startDynalite } from '../local/emulators';
import { createTable, dynamoClient } from './support/engine';
import { indexesOf, itemSize, totalUnits, unitsFor, writeUnits } from './support/write-units';

/**
 * What live logs add to a run's write units, by run length and lines logged. The real
 * flusher (lib/executor/log-flush.ts) schedules the flushes on a virtual clock, so a
 * 5-minute run takes milliseconds; each flush is the real conditional write on dynalite,
 * billed from the item read before and after it. Heartbeats and the final write cost
 * more once the item carries the flushed lines: that part is counted too, against the
 * same run without them.
 */

export interface LiveLogPoint {
  runSeconds: number;
  lines: number;
  flushes: number;
  flushWru: number;
  /** Heartbeats and the finish billed on a bigger item. */
  biggerItemWru: number;
  addedWru: number;
}

/** A line as a target runner writes it, about 80 bytes. */
const LINE = 'HTTP POST https://example.com/hooks/ingest: step done, 1234 bytes in 56 ms (ok)';

/** Run lengths and line intervals the figure covers. */
const SCENARIOS: { runSeconds: number; everySeconds: number | undefined }[] = [
  { runSeconds: 1, everySeconds: undefined },
  { runSeconds: 10, everySeconds: undefined },
  { runSeconds: 10, everySeconds: 1 },
  { runSeconds: 60, everySeconds: 10 },
  { runSeconds: 60, everySeconds: 1 },
  { runSeconds: 300, everySeconds: 10 },
  { runSeconds: 300, everySeconds: 1 },
];

/** Timers that fire only when the bench moves its virtual time on. */
function virtualTimers() {
  let now = 0;
  let timers: { at: number; run: () => void; live: boolean }[] = [];
  const timersApi: FlushTimers = {
    after: (ms, run) => {
      const timer = { at: now + ms, run, live: true };
      timers.push(timer);
      return () => {
        timer.live = false;
      };
    },
  };
  return {
    timers: timersApi,
    now: () => now,
    /** Moves to `at`, firing what falls due. */
    moveTo(at: number) {
      now = at;
      const due = timers.filter((t) => t.live && t.at <= now);
      timers = timers.filter((t) => t.live && t.at > now);
      for (const timer of due) timer.run();
    },
  };
}

export async function measureLiveLogs(): Promise<{ points: LiveLogPoint[]; flushDelayMs: number }> {
  const dynamo = await startDynalite();
  const client = dynamoClient(dynamo.endpoint);
  try {
    const tableName = await createTable(client, 'rota-live-logs');
    const indexes = indexesOf(tableDefinition(tableName));
    const runs = createRunStore({ client, tableName, retentionMs: 86_400_000 });
    const points: LiveLogPoint[] = [];
    let seq = 0;
    for (const scenario of SCENARIOS) {
      const taskID = `bench-task-${seq}`;
      const runID = `01JBENCHRUN${String(seq++).padStart(15, '0')}`;
      const read = async () =>
        (
          await client.send(
            new GetItemCommand({
              TableName: tableName,
              Key: { PK: { S: taskPk(taskID) }, SK: { S: runSk(runID) } },
              ConsistentRead: true,
            }),
          )
        ).Item;
      points.push(await measureOne(scenario, { runs, read, indexes, taskID, runID }));
    }
    return { points, flushDelayMs: DEFAULT_EXECUTOR_OPTIONS.logFlushMs };
  } finally {
    client.destroy();
    await dynamo.stop();
  }
}

type Item = Record<string, AttributeValue>;

async function measureOne(
  scenario: (typeof SCENARIOS)[number],
  io: {
    runs: ReturnType<typeof createRunStore>;
    read: () => Promise<Item | undefined>;
    indexes: ReturnType<typeof indexesOf>;
    taskID: string;
    runID: string;
  },
): Promise<LiveLogPoint> {
  const { runs, read, indexes, taskID, runID } = io;
  const token = 'bench-token';
  const scheduledFor = new Date(0).toISOString();
  await runs.claim({
    taskID,
    runID,
    token,
    now: Date.now(),
    claimTtlMs: 30_000,
    seed: { kind: 'scheduled', scheduledFor, attempt: 1 },
  });
  const clock = virtualTimers();
  const log = new RunLog(DEFAULT_EXECUTOR_OPTIONS.logLimitBytes, () => Date.now());
  let flushes = 0;
  let flushWru = 0;
  const flusher = new LogFlusher(
    log,
    async (entries) => {
      const before = await read();
      const held = await runs.flushLog(taskID, runID, token, entries);
      flushes++;
      flushWru += totalUnits(writeUnits({ itemBefore: before, itemAfter: await read(), indexes }));
      return held;
    },
    { delayMs: DEFAULT_EXECUTOR_OPTIONS.logFlushMs, onError: (error) => Promise.reject(error) },
    clock.timers,
  );
  // Billed on the item as it is, against the same item without the flushed lines.
  const extraOnItem = (item: Item | undefined) => {
    if (!item) return 0;
    const { liveLog: _flushed, ...without } = item;
    return unitsFor(itemSize(item)) - unitsFor(itemSize(without));
  };

  flusher.start();
  log.add(`run started (attempt 1, scheduled for ${scheduledFor})`);
  log.add(LINE);
  const endMs = scenario.runSeconds * 1000;
  const heartbeatMs = DEFAULT_EXECUTOR_OPTIONS.heartbeatMs;
  let biggerItemWru = 0;
  for (let at = 100; at < endMs; at += 100) {
    clock.moveTo(at);
    await flusher.idle();
    if (scenario.everySeconds && at % (scenario.everySeconds * 1000) === 0) log.add(LINE);
    if (at % heartbeatMs === 0) biggerItemWru += extraOnItem(await read());
  }
  clock.moveTo(endMs);
  log.add('run succeeded');
  await flusher.stop();
  const beforeFinish = await read();
  const finished = await runs.finish(taskID, runID, token, {
    status: 'success',
    finishedAt: new Date().toISOString(),
    log: log.entries,
  });
  if (!finished) throw new Error('live-logs bench: the final write did not hold');
  const afterFinish = await read();
  if (beforeFinish && afterFinish) {
    const { liveLog: _flushed, ...withoutFlushed } = beforeFinish;
    const billed = (before: Item) => unitsFor(Math.max(itemSize(before), itemSize(afterFinish)));
    biggerItemWru += billed(beforeFinish) - billed(withoutFlushed);
  }
  return {
    runSeconds: scenario.runSeconds,
    lines: log.entries.length,
    flushes,
    flushWru,
    biggerItemWru,
    addedWru: flushWru + biggerItemWru,
  };
}
