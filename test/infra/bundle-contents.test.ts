import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import { bundledInputs } from '../../infra/bundle-outputs';
import { esbuildOptions, functionEntry, ROTA_ROOT } from '../../infra/bundling';
import { rotaFunctions } from '../../infra/function-specs';
import { type RotaSystem, SYSTEMS } from '../../lib/systems/registry';
import { TEST_SYSTEMS } from '../support/systems/registry';

/** A source file URL as the metafile names it: relative to the Rota root. */
const fromRoot = (source: string) => relative(ROTA_ROOT, fileURLToPath(source));
const sourcesOf = (m: RotaSystem) => [...m.apis.map((a) => a.source), ...(m.engine ? [m.engine.source] : [])];
/** A system's folder: where its module's sources are (lib/systems/tasks/, test/support/systems/backups/). */
const folderOf = (m: RotaSystem) => `${dirname(fromRoot(sourcesOf(m)[0] ?? ''))}/`;

/**
 * The dependencies between systems, as test/unit/layering.test.ts states them: rules read
 * check statuses, and the labelled systems serve their resources' labels.
 */
const USES: Readonly<Record<string, readonly string[]>> = {
  notifications: ['checks', 'labels'],
  tasks: ['labels'],
  checks: ['labels'],
};

/**
 * What each bundle holds, from esbuild's metafile, built exactly as the construct
 * builds it (the same entries, generated ones included, and options) for the shipped
 * systems plus the test-only one. Each system API's entry imports its own source and
 * no registry, so its bundle holds that system and the core; a registry-wide import
 * anywhere on its path would put every system into it again.
 */
describe('the function bundles', () => {
  const inputs = new Map<string, Set<string>>();
  const modules = TEST_SYSTEMS.modules;

  beforeAll(async () => {
    const shippedExecutor = rotaFunctions(SYSTEMS).find((f) => f.name === 'executor');
    const functions = [
      ...rotaFunctions(TEST_SYSTEMS),
      ...(shippedExecutor ? [{ ...shippedExecutor, name: 'shipped executor' }] : []),
    ];
    const built = await Promise.all(
      functions.map(async ({ name, entry }) => {
        const outfile = join(ROTA_ROOT, 'dist', 'bundle-contents', name, 'index.mjs');
        const result = await build({ ...esbuildOptions(functionEntry(entry()), outfile), write: false });
        // Every output, lazy chunks included: a system's code behind an import() is still in the bundle.
        if (!result.metafile) throw new Error(`${name}: no metafile`);
        return [name, bundledInputs(result.metafile)] as const;
      }),
    );
    for (const [name, files] of built) inputs.set(name, files);
  });

  const systemFolders = (files: Set<string>) =>
    modules.filter((m) => [...files].some((f) => f.startsWith(folderOf(m)))).map((m) => m.name);

  it.each(modules.flatMap((m) => m.apis.map((api) => [api.name, m] as const)))(
    '%s holds its own system and the core, and no other system',
    (name, module) => {
      const files = inputs.get(name) ?? new Set();
      const api = module.apis.find((a) => a.name === name);
      expect(files.has(fromRoot(api?.source ?? '')), `${name} bundles its source`).toBe(true);
      const uses = USES[module.name] ?? [];
      const others = systemFolders(files).filter((s) => s !== module.name && !uses.includes(s));
      expect(others, `${name} holds these systems' code`).toEqual([]);
      // No route table or runner of another system: those come only with a registry-wide import.
      const foreign = [...files].filter((f) =>
        modules.some((m) => m !== module && sourcesOf(m).map(fromRoot).includes(f)),
      );
      expect(foreign, name).toEqual([]);
    },
  );

  it('keeps a runner out of its API bundles when the engine lives in a file of its own', () => {
    const split = modules.flatMap((m) =>
      m.engine ? m.apis.filter((api) => api.source !== m.engine?.source).map((api) => [api, m] as const) : [],
    );
    expect(split.map(([api]) => api.name)).toEqual(
      expect.arrayContaining(['tasks-api', 'checks-api', 'notification-rules-api']),
    );
    for (const [api, m] of split) {
      expect(inputs.get(api.name)?.has(fromRoot(m.engine?.source ?? '')), api.name).toBe(false);
    }
  });

  it('gives the executor every engine, and no route table of a system whose engine lives apart', () => {
    const files = inputs.get('executor') ?? new Set();
    for (const m of modules) {
      if (m.engine) expect(files.has(fromRoot(m.engine.source)), m.name).toBe(true);
      for (const api of m.apis) {
        if (api.source !== m.engine?.source) expect(files.has(fromRoot(api.source)), api.name).toBe(false);
      }
    }
    // The shipped systems all keep their engines apart: their executor holds no route at all.
    const shipped = [...(inputs.get('shipped executor') ?? [])];
    expect(SYSTEMS.engines.map((e) => shipped.includes(fromRoot(e.source)))).toEqual([true, true, true]);
    const routing = ['lib/http/run-routes.ts', 'lib/http/api-handler.ts', 'lib/http/route.ts'];
    expect(shipped.filter((f) => f.endsWith('/http.ts') || routing.includes(f))).toEqual([]);
  });

  it('holds the environment credential provider and none of the default chain (lib/aws/env-credentials.ts)', () => {
    // The chain's other links and what they bring: the SSO, STS and sign-in clients, the
    // token providers and the metadata services.
    const chain = [
      '@aws-sdk/credential-provider-node',
      '@aws-sdk/credential-provider-ini',
      '@aws-sdk/credential-provider-sso',
      '@aws-sdk/credential-provider-process',
      '@aws-sdk/credential-provider-web-identity',
      '@aws-sdk/credential-provider-http',
      '@aws-sdk/credential-provider-login',
      '@aws-sdk/nested-clients',
      '@aws-sdk/token-providers',
      '@smithy/credential-provider-imds',
    ];
    for (const [name, files] of inputs) {
      const packages = [...files].flatMap((f) => f.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\//)?.[1] ?? []);
      expect(
        chain.filter((p) => packages.includes(p)),
        name,
      ).toEqual([]);
      // Every bundle but the meta API's builds an SDK client.
      if (name === 'meta-api') continue;
      expect(files.has('lib/aws/env-credentials.ts'), name).toBe(true);
      expect(packages, name).toContain('@aws-sdk/credential-provider-env');
    }
  });

  it('serves the OpenAPI document from beside the meta-api bundle, holding no system and no document generator', () => {
    const files = [...(inputs.get('meta-api') ?? [])];
    expect(systemFolders(new Set(files))).toEqual([]);
    const packages = ['zod-openapi', 'croner', 'luxon', 'cron-parser', '@aws-sdk/client-dynamodb'];
    expect(files.filter((f) => packages.some((p) => f.startsWith(`node_modules/${p}/`)))).toEqual([]);
  });
});
