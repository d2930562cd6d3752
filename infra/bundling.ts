import { basename, dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Runtime } from 'aws-cdk-lib/aws-lambda';
import type { BuildOptions } from 'esbuild';

/**
 * How every Rota function is built, declared once.
 *
 * Local mode imports `functions/<name>.ts` directly. The CDK construct bundles exactly
 * those entry files with `esbuildOptions()` (infra/rota-function.ts, local bundling of a
 * `Code.fromAsset`), and so does `scripts/bundle.ts`; both are derived from `ROTA_BUNDLE`
 * below. So the synth deploys the code local mode runs, built the same way `npm run
 * build` builds it, and a bundle size measured locally is the size deployed.
 *
 * The output is split (ESM code splitting): `index.mjs` is the entry, and what the code
 * loads with a dynamic `import()` (the executor's target clients, the KMS box) lands in
 * `chunks/`, loaded on first use. `NodejsFunction` cannot build that: it always passes
 * `--outfile`, which esbuild refuses with `--splitting`. ADR 0017.
 */

/** The repository root, found from this file so an app that embeds the construct can live anywhere. */
export const ROTA_ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * The newest Node.js runtime this aws-cdk-lib knows. cdk-nag's AwsSolutions-L1 wants the
 * latest of the family, and the bundle target below follows it so esbuild never lowers
 * syntax the runtime already has.
 */
export const ROTA_RUNTIME = Runtime.NODEJS_24_X;

/**
 * ESM output runs CommonJS dependencies through esbuild's `__require` shim, which throws
 * "Dynamic require of ... is not supported" unless a real `require` is in scope.
 */
const CREATE_REQUIRE_BANNER =
  "import { createRequire as __rotaCreateRequire } from 'node:module'; const require = __rotaCreateRequire(import.meta.url);";

export const ROTA_BUNDLE = {
  target: ROTA_RUNTIME.name.replace(/^nodejs(\d+).*$/, 'node$1'),
  format: 'esm',
  minify: true,
  // Paired with NODE_OPTIONS=--enable-source-maps on every function: stack traces point at
  // the TypeScript. Without sources content the map stays small, so cold starts do not pay
  // to parse a second copy of the code.
  sourcemap: true,
  sourcesContent: false,
  treeShaking: true,
  // The AWS SDK and Powertools ship tree-shakable ES modules under `module`; `main` is
  // a prebuilt CommonJS file that esbuild has to keep whole.
  mainFields: ['module', 'main'],
  banner: CREATE_REQUIRE_BANNER,
  // Nothing is external, @aws-sdk/* included. The code is tested against the SDK versions
  // pinned in package-lock.json; the copy inside the Lambda runtime changes whenever AWS
  // updates it. Bundling the pinned, tree-shaken SDK makes the deployed code identical
  // to what local mode and the tests run, at a cost of a few hundred KB per function.
  external: [] as string[],
  // The SDK's default credential chain (environment, SSO, ini files, process, web identity,
  // metadata services, and the STS and SSO clients they use) becomes the environment
  // provider alone: on Lambda the credentials are in the environment. Relative to
  // ROTA_ROOT, the working directory of both builds. See lib/aws/env-credentials.ts.
  alias: { '@aws-sdk/credential-provider-node': './lib/aws/env-credentials.ts' } as Record<string, string>,
  logLevel: 'warning',
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
} as const;

/** `functions/<name>.ts`, absolute. */
export function functionEntry(entry: string): string {
  return join(ROTA_ROOT, entry);
}

/**
 * The build for esbuild's JavaScript API: `entry` → `outfile` (an `.mjs` file), with the
 * chunks it loads lazily in `chunks/` beside it. Splitting takes a directory, so
 * `outfile` names it and the entry's name in it.
 */
export function esbuildOptions(entry: string, outfile: string): BuildOptions {
  return {
    entryPoints: [entry],
    outdir: dirname(outfile),
    entryNames: basename(outfile, extname(outfile)),
    chunkNames: ROTA_BUNDLE.chunkNames,
    outExtension: { '.js': extname(outfile) || '.js' },
    splitting: ROTA_BUNDLE.splitting,
    bundle: true,
    platform: 'node',
    target: ROTA_BUNDLE.target,
    format: ROTA_BUNDLE.format,
    minify: ROTA_BUNDLE.minify,
    sourcemap: ROTA_BUNDLE.sourcemap,
    sourcesContent: ROTA_BUNDLE.sourcesContent,
    treeShaking: ROTA_BUNDLE.treeShaking,
    mainFields: [...ROTA_BUNDLE.mainFields],
    banner: { js: ROTA_BUNDLE.banner },
    external: [...ROTA_BUNDLE.external],
    alias: { ...ROTA_BUNDLE.alias },
    logLevel: ROTA_BUNDLE.logLevel,
    absWorkingDir: ROTA_ROOT,
    metafile: true,
  };
}
