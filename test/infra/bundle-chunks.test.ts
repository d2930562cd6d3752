import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleOutputs } from '../../infra/bundle-outputs';
import { esbuildOptions, functionEntry, ROTA_ROOT } from '../../infra/bundling';
import { rotaFunctions } from '../../infra/function-specs';
import { SYSTEMS } from '../../lib/systems/registry';

/**
 * The executor's lazy chunks, written as the asset holds them, load in a fresh Node.js
 * process: each `import()` the code makes on first use of a target kind or a secret
 * resolves to a file that is there and runs.
 */
describe("the executor's lazy chunks", () => {
  const dir = mkdtempSync(join(tmpdir(), 'rota-chunks-'));
  let chunks: string[] = [];

  beforeAll(async () => {
    const executor = rotaFunctions(SYSTEMS).find((f) => f.name === 'executor');
    if (!executor) throw new Error('no executor function');
    const result = await build(esbuildOptions(functionEntry(executor.entry()), join(dir, 'index.mjs')));
    if (!result.metafile) throw new Error('no metafile');
    chunks = bundleOutputs(result.metafile).lazyChunks.map((chunk) => join(ROTA_ROOT, chunk.file));
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('are there, one for each client and sender loaded on first use', () => {
    for (const name of [
      'lambda',
      'sns',
      'eventbridge',
      'kms',
      'secrets-manager',
      'kms-secret-box',
      'sns-target',
    ])
      expect(
        chunks.some((file) => file.includes(`/chunks/${name}-`)),
        name,
      ).toBe(true);
  });

  it('each load from the asset layout, after the entry', () => {
    // The error alone: Node.js would print the failing line first, the whole minified bundle.
    const script = [
      'try {',
      `  await import(${JSON.stringify(pathToFileURL(join(dir, 'index.mjs')).href)});`,
      `  for (const file of ${JSON.stringify(chunks.map((file) => pathToFileURL(file).href))}) await import(file);`,
      "  process.stdout.write('loaded');",
      '} catch (error) {',
      '  process.stdout.write(String(error));',
      '}',
    ].join('\n');
    const out = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      env: {
        PATH: process.env.PATH ?? '',
        AWS_REGION: 'us-east-1',
        ROTA_TABLE_NAME: 'rota',
        ROTA_RUNS_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/000000000000/rota-runs',
        ROTA_SECRETS_KMS_KEY_ARN:
          'arn:aws:kms:us-east-1:000000000000:key/00000000-0000-0000-0000-000000000000',
        AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
        AWS_SECRET_ACCESS_KEY: 'chunks',
      },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(out.stdout).toBe('loaded');
    expect(out.status).toBe(0);
  });
});
