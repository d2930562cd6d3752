import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type BuildOptions, build, type Metafile } from 'esbuild';
import { round } from './support/engine';

/**
 * Figure 5: each Lambda bundle's size and the time a fresh `node` process takes to
 * import it (module load = the init phase's own work, before the first invocation).
 * With split bundles, both are the cold path's: importing `index.mjs` loads it and the
 * chunks it imports statically, and the size counts exactly those (infra/bundle-outputs.ts);
 * the chunks behind an `import()` are reported apart as `lazyBytes`.
 *
 * Bundled with infra/bundling.ts's `esbuildOptions()` — the options scripts/bundle.ts
 * and the CDK construct use — when that file exists, otherwise with equivalent options
 * declared here. Output goes to bench/dist/ (scripts/bundle.ts's bundleAll() writes to
 * dist/, which the bench leaves alone).
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url));
// `dist` is ignored by git and Biome alike.
const OUT = join(ROOT, 'bench', 'dist', 'bundles');
const TIMER = join(ROOT, 'bench', 'support', 'import-timer.mjs');
const BASELINE_ENTRY = join(ROOT, 'bench', 'support', 'baseline-handler.ts');

export interface BundleFigure {
  function: string;
  /** What a cold start loads: the entry and the chunks it imports statically (ADR 0017), without source maps. */
  bytes: number;
  /** The chunks only a dynamic import() reaches (a target kind's client), loaded on first use; not timed. */
  lazyBytes?: number | undefined;
  /** Median time of `await import(bundle)` in a fresh process. */
  initMs: number | null;
  /** Median wall time of the whole fresh process (node start + import + exit). */
  processMs: number | null;
  initMsAll: number[];
  /** The largest contributors to the bundle, by package (from esbuild's metafile). */
  topInputs?: { name: string; bytes: number }[] | undefined;
  error?: string | undefined;
}

export interface ColdStartResult {
  bundler: string;
  target: string;
  nodeOptions: string;
  repetitions: number;
  bundles: BundleFigure[];
  baseline: BundleFigure;
}

/** What infra/bundling.ts declares, for when it is missing. */
const FALLBACK_OPTIONS = (entry: string, outfile: string): BuildOptions => ({
  entryPoints: [entry],
  outfile,
  bundle: true,
  platform: 'node',
  target: 'node22',
  format: 'esm',
  minify: true,
  treeShaking: true,
  sourcemap: true,
  sourcesContent: false,
  mainFields: ['module', 'main'],
  banner: {
    js: "import { createRequire as __rotaCreateRequire } from 'node:module'; const require = __rotaCreateRequire(import.meta.url);",
  },
  logLevel: 'warning',
  absWorkingDir: ROOT,
});

async function bundler(): Promise<{
  name: string;
  options: (entry: string, outfile: string) => BuildOptions;
}> {
  if (existsSync(join(ROOT, 'infra', 'bundling.ts'))) {
    const mod = (await import('../infra/bundling')) as {
      esbuildOptions?: (entry: string, outfile: string) => BuildOptions;
    };
    if (mod.esbuildOptions) {
      return { name: 'infra/bundling.ts esbuildOptions()', options: mod.esbuildOptions };
    }
  }
  return {
    name: 'esbuild with options equivalent to infra/bundling.ts (file not found)',
    options: FALLBACK_OPTIONS,
  };
}

type Outputs = { coldFiles: string[]; coldBytes: number; lazyChunks: { bytes: number }[] };

/**
 * What a cold start loads from a split build (infra/bundle-outputs.ts); without that file,
 * an unsplit build's single output.
 */
async function outputsReader(): Promise<((metafile: Metafile) => Outputs) | undefined> {
  if (!existsSync(join(ROOT, 'infra', 'bundle-outputs.ts'))) return undefined;
  const mod = (await import('../infra/bundle-outputs')) as {
    bundleOutputs?: (metafile: Metafile) => Outputs;
  };
  return mod.bundleOutputs;
}

/** Cold-path output bytes by package (node_modules/<pkg>, or `rota` for the repository's own code), top 4. */
function topInputs(
  metafile: Metafile | undefined,
  coldFiles: readonly string[] | undefined,
): { name: string; bytes: number }[] | undefined {
  if (!metafile) return undefined;
  const byPackage = new Map<string, number>();
  const cold = Object.entries(metafile.outputs).filter(([file]) => !coldFiles || coldFiles.includes(file));
  for (const [, output] of cold) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const match = input.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/);
      const name = match?.[1] ?? 'rota';
      byPackage.set(name, (byPackage.get(name) ?? 0) + bytesInOutput);
    }
  }
  return [...byPackage]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 4)
    .map(([name, bytes]) => ({ name, bytes }));
}

/** What the functions read at module load; fake credentials so nothing reaches the network. */
const FUNCTION_ENV: Record<string, string> = {
  ROTA_TABLE_NAME: 'rota',
  ROTA_RUNS_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/000000000000/rota-runs',
  ROTA_SECRETS_KMS_KEY_ARN: 'arn:aws:kms:us-east-1:000000000000:key/00000000-0000-0000-0000-000000000000',
  ROTA_BOOTSTRAP_TOKEN_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:rota-bootstrap',
  ROTA_EVENT_BUS_NAME: 'rota-events',
  ROTA_PLANNING_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/000000000000/rota-planning',
  AWS_REGION: 'us-east-1',
  AWS_DEFAULT_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
  AWS_SECRET_ACCESS_KEY: 'bench',
  AWS_SESSION_TOKEN: 'bench',
  POWERTOOLS_SERVICE_NAME: 'rota-bench',
  POWERTOOLS_METRICS_NAMESPACE: 'Rota',
  POWERTOOLS_LOG_LEVEL: 'INFO',
  // As every RotaFunction sets it (infra/rota-function.ts).
  NODE_OPTIONS: '--enable-source-maps',
};

function timeImport(file: string, repetitions: number) {
  const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...FUNCTION_ENV };
  const imports: number[] = [];
  const processes: number[] = [];
  let error: string | undefined;
  // One untimed run first, so every timed run finds the file in the page cache.
  for (let i = 0; i <= repetitions; i++) {
    const started = performance.now();
    const out = spawnSync(process.execPath, [TIMER, pathToFileURL(file).href], {
      env,
      encoding: 'utf8',
      timeout: 30_000,
    });
    const wall = performance.now() - started;
    if (out.status !== 0) {
      error = (out.stderr || out.stdout || `exit ${out.status}`).trim().split('\n').slice(0, 3).join(' ');
      break;
    }
    const line = out.stdout.trim().split('\n').at(-1) ?? '';
    const { importMs } = JSON.parse(line) as { importMs: number };
    if (i > 0) {
      imports.push(importMs);
      processes.push(wall);
    }
  }
  const median = (xs: number[]) => {
    if (!xs.length) return null;
    const s = [...xs].sort((a, b) => a - b);
    return round(s[Math.floor(s.length / 2)] ?? 0, 1);
  };
  return {
    initMs: median(imports),
    processMs: median(processes),
    initMsAll: imports.map((m) => round(m, 1)),
    error,
  };
}

/**
 * The functions the construct deploys, each from its own entry (the system APIs' and the
 * executor's are generated from the registry); without infra/function-specs.ts, every
 * functions/*.ts file.
 */
async function functionEntries(): Promise<{ name: string; entry: string }[]> {
  if (existsSync(join(ROOT, 'infra', 'function-specs.ts'))) {
    const mod = (await import('../infra/function-specs')) as {
      ROTA_FUNCTIONS?: readonly { name: string; entry: string | (() => string) }[];
    };
    if (mod.ROTA_FUNCTIONS) {
      return mod.ROTA_FUNCTIONS.map(({ name, entry }) => ({
        name,
        entry: join(ROOT, typeof entry === 'function' ? entry() : entry),
      }));
    }
  }
  return readdirSync(join(ROOT, 'functions'))
    .filter((f) => f.endsWith('.ts'))
    .sort()
    .map((f) => ({ name: basename(f, '.ts'), entry: join(ROOT, 'functions', f) }));
}

export async function measureColdStart(repetitions = 5): Promise<ColdStartResult> {
  const { name, options } = await bundler();
  const readOutputs = await outputsReader();
  const entries = await functionEntries();
  mkdirSync(OUT, { recursive: true });

  const bundleOne = async (fn: string, entry: string) => {
    const outfile = join(OUT, fn, 'index.mjs');
    // A split build leaves chunks named by hash: start clean so none of an earlier build is left.
    rmSync(join(OUT, fn), { recursive: true, force: true });
    mkdirSync(join(OUT, fn), { recursive: true });
    try {
      const result = await build({ ...options(entry, outfile), metafile: true });
      const outputs = result.metafile && readOutputs ? readOutputs(result.metafile) : undefined;
      return {
        outfile,
        bytes: outputs?.coldBytes ?? statSync(outfile).size,
        lazyBytes: outputs?.lazyChunks.reduce((sum, chunk) => sum + chunk.bytes, 0),
        topInputs: topInputs(result.metafile, outputs?.coldFiles),
      };
    } catch (error) {
      return { outfile, bytes: 0, error: (error as Error).message.split('\n')[0] };
    }
  };
  // esbuild is fast and runs in its own process; bundling them one after another keeps the CPU free.
  const built = [];
  for (const { name: fn, entry } of entries) built.push({ fn, ...(await bundleOne(fn, entry)) });
  const base = await bundleOne('baseline-middy', BASELINE_ENTRY);

  const bundles: BundleFigure[] = built.map((b) => {
    if (b.error)
      return { function: b.fn, bytes: 0, initMs: null, processMs: null, initMsAll: [], error: b.error };
    return {
      function: b.fn,
      bytes: b.bytes,
      lazyBytes: b.lazyBytes,
      ...timeImport(b.outfile, repetitions),
      topInputs: b.topInputs,
    };
  });
  const baseline: BundleFigure = base.error
    ? { function: 'baseline', bytes: 0, initMs: null, processMs: null, initMsAll: [], error: base.error }
    : { function: 'baseline', bytes: base.bytes, ...timeImport(base.outfile, repetitions) };
  const sample = options('x.ts', 'x.mjs');
  return {
    bundler: name,
    target: String(sample.target),
    nodeOptions: FUNCTION_ENV.NODE_OPTIONS ?? '',
    repetitions,
    bundles,
    baseline,
  };
}
