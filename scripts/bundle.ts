import { copyFile, mkdir, rm, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { bundleOutputs } from '../infra/bundle-outputs';
import { esbuildOptions, functionEntry, ROTA_ROOT } from '../infra/bundling';
import { rotaFunctions } from '../infra/task-service';
import { SYSTEMS, type SystemRegistry } from '../lib/systems/registry';

export interface BundleResult {
  function: string;
  /** What a cold start loads: the minified `index.mjs` and the chunks it imports statically, without source maps. */
  bytes: number;
  /** The chunks loaded only on first use of a lazy path (a target kind's client), together. */
  lazyBytes: number;
  path: string;
}

const OUT_DIR = join(ROTA_ROOT, 'dist', 'functions');

/**
 * Bundles every function the CDK construct deploys for `systems`, from the same
 * entries (generated ones included) and with the options the construct uses
 * (infra/bundling.ts), into dist/functions/<name>/index.mjs and its chunks/. The esbuild metafile
 * lands next to each bundle (meta.json) to answer "why is this bundle big".
 */
export async function bundleAll(systems: SystemRegistry = SYSTEMS): Promise<BundleResult[]> {
  await rm(OUT_DIR, { recursive: true, force: true });
  return Promise.all(
    rotaFunctions(systems).map(async ({ name, entry, files }) => {
      const dir = join(OUT_DIR, name);
      const outfile = join(dir, 'index.mjs');
      await mkdir(dir, { recursive: true });
      const result = await build(esbuildOptions(functionEntry(entry()), outfile));
      if (!result.metafile) throw new Error(`${name}: esbuild wrote no metafile`);
      await writeFile(join(dir, 'meta.json'), JSON.stringify(result.metafile));
      // What the CDK asset carries beside the bundle (infra/rota-function.ts copies the same).
      for (const [file, source] of Object.entries(files?.() ?? {})) await copyFile(source, join(dir, file));
      const { coldBytes, lazyChunks } = bundleOutputs(result.metafile);
      const lazyBytes = lazyChunks.reduce((sum, chunk) => sum + chunk.bytes, 0);
      return { function: name, bytes: coldBytes, lazyBytes, path: outfile };
    }),
  );
}

const LIMIT = 1024 * 1024;

async function main(): Promise<void> {
  const results = await bundleAll();
  console.table(
    results.map((r) => ({
      function: r.function,
      bytes: r.bytes,
      KiB: Number((r.bytes / 1024).toFixed(1)),
      'lazy KiB': Number((r.lazyBytes / 1024).toFixed(1)),
      path: relative(ROTA_ROOT, r.path),
    })),
  );
  const large = results.filter((r) => r.bytes > LIMIT);
  if (large.length > 0) {
    console.error(
      `over 1 MiB: ${large.map((r) => r.function).join(', ')} (see meta.json next to each bundle)`,
    );
    process.exitCode = 1;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
