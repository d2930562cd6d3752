import { join } from 'node:path';
import { build } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import { esbuildOptions, functionEntry, ROTA_ROOT } from '../../infra/bundling';
import { rotaFunctions } from '../../infra/function-specs';
import { SYSTEMS } from '../../lib/systems/registry';

/** Issue 14's goal for every function: what a cold start loads, minified, under 300 KB. */
const GOAL_BYTES = 300 * 1024;

/**
 * The functions not yet at the goal, each held to its size at a35c174 plus 2 %, so a
 * change that grows one fails here instead of drifting; lower a ceiling when a bundle
 * shrinks, drop the row when it reaches the goal. Not a pass: ADR 0017 lists what is
 * left. The executor's was raised once, on purpose, for Flux tasks (ADR 0022: the
 * annotated-CSV reader and the Secrets Manager client, 783,164 bytes at 8536c49). The
 * scheduler's was raised once, on purpose, for jitter and time bounds (ADR 0019) and the
 * fan-out coordinator (ADR 0014), together 521,620 bytes at their merge. The four
 * labelled resources' APIs were raised by 8,000 bytes each for labels (ADR 0020: the
 * label store and the `…/labels` routes, about 7.4 KB minified in each); the labels
 * API's own row is its size when it was added (465,693 bytes) plus 2 %.
 */
const NOT_YET_AT_GOAL: Readonly<Record<string, number>> = {
  // Raised on purpose for InfluxDB's task filters and errors (ADR 0020) and the completions
  // read (ADR 0015): 590,191 bytes at their merge; + 8,000 for labels.
  'tasks-api': 610_000,
  // Raised on purpose for InfluxDB's check, rule and endpoint shapes (ADR 0020, 0022) and
  // the completions read on get and list (ADR 0015): 596,739 and 545,493 bytes at d57a3ab;
  // + 8,000 each for labels. Endpoints + 1,200 for the operator's every-org task list
  // (ADR 0020, part o: the org directory and the merge in its task store, 567,895 bytes);
  // + 300 for the shared read-only task fields module of eab870f (568,615 bytes).
  'checks-api': 616_700,
  'notification-rules-api': 564_400,
  'notification-endpoints-api': 568_800,
  // Raised on purpose for InfluxDB's filters and notification types (ADR 0020, part a):
  // 424,412 bytes with labels.
  'authorizations-api': 433_000,
  'labels-api': 475_100,
  scheduler: 532_100,
  // Raised on purpose for live logs (ADR 0024) and Flux checks (ADR 0022): 799,221 bytes.
  executor: 815_200,
  reconciler: 517_600,
  'dead-letter': 480_000,
  // New with the fan-out (ADR 0014): the scheduler's parts plus the batch processor,
  // 519,736 bytes when it was added, + 2 %.
  'planning-worker': 530_200,
  authorizer: 373_300,
  // The runs API's own path to a manual run (run service, run store, runs queue): 501,431 bytes.
  'run-requests': 511_500,
};

/** Every function the construct deploys for the shipped systems, built as it builds them. */
describe('the bundle sizes', () => {
  const built = new Map<string, { bytes: number; exports: string[] }>();
  const functions = rotaFunctions(SYSTEMS);

  beforeAll(async () => {
    for (const { name, entry } of functions) {
      const outfile = join(ROTA_ROOT, 'dist', 'bundle-size', name, 'index.mjs');
      const result = await build({ ...esbuildOptions(functionEntry(entry()), outfile), write: false });
      const [, output] =
        Object.entries(result.metafile?.outputs ?? {}).find(
          ([file, o]) => o.entryPoint && file.endsWith('.mjs'),
        ) ?? [];
      built.set(name, { bytes: output?.bytes ?? Number.NaN, exports: output?.exports ?? [] });
    }
  });

  it.each(functions.map((f) => f.name))(
    '%s is under the goal, or under its ceiling until it gets there',
    (name) => {
      const bytes = built.get(name)?.bytes ?? Number.NaN;
      expect(bytes, name).toBeGreaterThan(0);
      expect(bytes, `${name}: ${bytes} bytes`).toBeLessThan(NOT_YET_AT_GOAL[name] ?? GOAL_BYTES);
    },
  );

  it('keeps a ceiling only for a function that is still over the goal', () => {
    for (const [name, ceiling] of Object.entries(NOT_YET_AT_GOAL)) {
      expect(ceiling, name).toBeGreaterThan(GOAL_BYTES);
      expect(built.get(name)?.bytes, `${name} reached the goal: drop its ceiling`).toBeGreaterThan(
        GOAL_BYTES,
      );
    }
  });

  it('exports the handler the CDK function names (index.handler) from each entry file', () => {
    for (const { name } of functions) expect(built.get(name)?.exports, name).toContain('handler');
  });
});
