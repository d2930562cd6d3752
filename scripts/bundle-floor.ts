/**
 * The smallest a Rota function that reads the table can be (ADR 0017): one GetItem with
 * the DynamoDB client alone, and the same through a dynamodb-toolbox Entity, each built
 * with the functions' own esbuild options (infra/bundling.ts) and measured as the bundle
 * test measures a function (infra/bundle-outputs.ts). Usage: `npx tsx scripts/bundle-floor.ts`.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { bundleOutputs } from '../infra/bundle-outputs';
import { esbuildOptions, ROTA_ROOT } from '../infra/bundling';

const FLOORS = {
  'GetItem, @aws-sdk/client-dynamodb': 'bench/support/floor/sdk-get-item.ts',
  'GetItem, dynamodb-toolbox Entity': 'bench/support/floor/toolbox-get-item.ts',
  'get, put, update, query, dynamodb-toolbox': 'bench/support/floor/toolbox-store.ts',
  'the same + middy, Powertools logger': 'bench/support/floor/toolbox-store-handler.ts',
} as const;

export async function bundleFloors(): Promise<{ handler: string; bytes: number }[]> {
  const rows = [];
  for (const [handler, entry] of Object.entries(FLOORS)) {
    const outfile = join(ROTA_ROOT, 'dist', 'bundle-floor', handler.replace(/\W+/g, '-'), 'index.mjs');
    const result = await build({ ...esbuildOptions(join(ROTA_ROOT, entry), outfile), write: false });
    if (!result.metafile) throw new Error(`${handler}: no metafile`);
    rows.push({ handler, bytes: bundleOutputs(result.metafile).coldBytes });
  }
  return rows;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const rows = await bundleFloors();
  console.table(rows.map((r) => ({ ...r, KiB: Number((r.bytes / 1024).toFixed(1)) })));
}
