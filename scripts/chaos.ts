/**
 * The experiment, as a user would run it: `npm run chaos`. Local mode on a data
 * dir with ~20 tasks (every 1 s / 2 s, some capped at 1 or 2, some failing with retries),
 * SIGKILLed at three random moments over two minutes and restarted each time; then a
 * report of what was planned against what ran.
 *
 *   npm run chaos -- --tasks 20 --seconds 120 --kills 3 --seed 7 [--keep]
 *
 * `--keep` leaves the data dir, with each process's INFO log in it, for a look inside.
 * Exits non-zero if anything was lost, stranded, started twice without resuming, if a
 * retry is missing or a concurrency cap was broken.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { formatAudit, runExperiment, taskMix } from '../test/support/durability';

const { values } = parseArgs({
  options: {
    tasks: { type: 'string', default: '20' },
    seconds: { type: 'string', default: '120' },
    kills: { type: 'string', default: '3' },
    seed: { type: 'string', default: String(Date.now() % 100_000) },
    'downtime-ms': { type: 'string', default: '3000' },
    /** Passed to local mode as --workers; its own default otherwise. */
    workers: { type: 'string' },
    'data-dir': { type: 'string' },
    /** Keep the data dir and every process's INFO log in it, to look into a failure. */
    keep: { type: 'boolean', default: false },
  },
});
const seconds = Number(values.seconds);
const killCount = Number(values.kills);
const seed = Number(values.seed);

/** mulberry32: a small seeded PRNG, so a run can be repeated with --seed. */
function random(state: number) {
  let a = state >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Kill moments spread over the window: one random moment in each of `count` equal slices. */
function killMoments(count: number, window: number, next: () => number): number[] {
  const first = 10;
  const last = window - 15;
  const slice = (last - first) / count;
  return Array.from({ length: count }, (_, i) => Math.round(first + slice * i + next() * (slice - 8)));
}

const dataDir = values['data-dir'] ?? mkdtempSync(join(tmpdir(), 'rota-chaos-'));
const killsAt = killMoments(killCount, seconds, random(seed));
const started = Date.now();
console.log(
  `rota chaos: seed ${seed}, ${values.tasks} tasks, ${seconds} s, SIGKILL at ${killsAt.join(', ')} s; data in ${dataDir}`,
);
try {
  const audit = await runExperiment({
    dataDir,
    tasks: taskMix(Number(values.tasks)),
    killsAt,
    downtimeMs: Number(values['downtime-ms']),
    windowSeconds: seconds,
    // Default claim TTL (30 s): a run in flight at a kill resumes about that long after it.
    settleMs: 120_000,
    timeout: '30s',
    log: (line) => console.log(`  ${line}`),
    logDir: values.keep ? dataDir : undefined,
    workers: values.workers ? Number(values.workers) : undefined,
  });
  console.log(`\n${formatAudit(audit)}\n(${((Date.now() - started) / 1000).toFixed(0)} s)`);
  const broken =
    audit.lost.length +
    audit.stranded.length +
    audit.duplicateStarts.length +
    audit.retriesMissing.length +
    audit.capViolations.length;
  process.exitCode = broken > 0 ? 1 : 0;
} finally {
  if (!values['data-dir'] && !values.keep) rmSync(dataDir, { recursive: true, force: true });
}
