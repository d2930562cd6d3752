import { RequestCounter, totals } from './support/counter';
import { batchPut, createBenchEngine, round, startSubstrate, taskItem } from './support/engine';
import { rawTask } from './support/tasks';

/**
 * Figure 2: one scheduler tick with 100 due tasks among N stored tasks. The stored
 * tasks are seeded with BatchWriteItem as the task store's create() would write them:
 * most are active with a next run days ahead (so they sit in the sparse `due` index),
 * a tenth are inactive (not in it). The 100 due tasks run every minute and their next
 * instant is within the tick's 60 s lookahead.
 */

export interface ScalingPoint {
  tasks: number;
  due: number;
  /** Items the tick's due-index Queries returned (sum of Count). */
  itemsRead: number;
  queries: number;
  readUnits: number;
  /** Median tick time of `repetitions` ticks. */
  ms: number;
  msAll: number[];
  advanced: number;
  enqueued: number;
  /** Tasks actually stored (can be below the target when seeding hit its time budget). */
  seeded: number;
}

const DUE = 100;
const REPETITIONS = 3;

export async function measureScaling(
  levels: readonly number[],
  seedBudgetMs: number,
): Promise<{ points: ScalingPoint[]; note?: string | undefined; seedMs: number }> {
  // A dedicated emulator: 100k items must not slow the other figures down.
  const substrate = await startSubstrate();
  const counter = new RequestCounter();
  const engine = await createBenchEngine(substrate, { counter, prefix: 'scaling' });
  const points: ScalingPoint[] = [];
  let note: string | undefined;
  let seeded = 0;
  let seedMs = 0;
  const seedStarted = Date.now();
  try {
    const now = Date.now();
    const minute = Math.floor(now / 60_000) * 60_000;
    const dueIDs: string[] = [];
    const dueItems = () =>
      dueIDs.map((id) => {
        const latest = Math.floor(Date.now() / 60_000) * 60_000;
        return taskItem(rawTask({ id, every: '1m', latestScheduled: latest }));
      });
    for (let i = 0; i < DUE; i++) dueIDs.push(rawTask({ every: '1m', latestScheduled: minute }).id);
    await batchPut(engine.admin.dynamo, engine.tableName, dueItems());
    seeded = DUE;
    // One untimed tick warms the code paths (JIT, connections) the timed ticks use.
    await engine.scheduler.tick();

    for (const target of levels) {
      // Seed the idle tasks in chunks, within the time budget.
      while (seeded < target) {
        if (Date.now() - seedStarted > seedBudgetMs) {
          note = `seeding stopped at ${seeded} tasks (of ${target}) after the ${Math.round(seedBudgetMs / 1000)} s seeding budget`;
          break;
        }
        const chunk = Math.min(5000, target - seeded);
        const items = Array.from({ length: chunk }, (_, i) => {
          const n = seeded + i;
          const inactive = n % 10 === 0;
          return taskItem(
            rawTask({
              every: '1d',
              status: inactive ? 'inactive' : 'active',
              latestScheduled: now,
              nextRunAt: inactive ? undefined : now + 86_400_000 + Math.floor(Math.random() * 6 * 86_400_000),
            }),
          );
        });
        const started = Date.now();
        await batchPut(engine.admin.dynamo, engine.tableName, items, 8);
        seedMs += Date.now() - started;
        seeded += chunk;
      }
      const msAll: number[] = [];
      let last: Omit<ScalingPoint, 'ms' | 'msAll' | 'tasks' | 'seeded'> | undefined;
      for (let rep = 0; rep < REPETITIONS; rep++) {
        // Make the 100 due again (the previous tick advanced them).
        await batchPut(engine.admin.dynamo, engine.tableName, dueItems());
        counter.reset();
        const started = performance.now();
        const report = await engine.scheduler.tick();
        msAll.push(performance.now() - started);
        const t = totals(counter.snapshot(), ['scheduler']);
        last = {
          due: report.due,
          itemsRead: t.dynamodbItemsRead,
          queries: t.byOperation['DynamoDB:Query'] ?? 0,
          readUnits: t.dynamodbReadUnits,
          advanced: report.advanced,
          enqueued: report.enqueued,
        };
      }
      if (!last) throw new Error('no tick measured');
      const sorted = [...msAll].sort((a, b) => a - b);
      points.push({
        tasks: seeded,
        ...last,
        ms: round(sorted[Math.floor(sorted.length / 2)] ?? 0, 1),
        msAll: msAll.map((m) => round(m, 1)),
        seeded,
      });
      if (note) break;
    }
    return { points, note, seedMs };
  } finally {
    engine.close();
    await substrate.stop();
  }
}
