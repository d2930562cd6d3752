import type { Metafile } from 'esbuild';

/** What one function's build loads: at a cold start, and later, on first use of a lazy path. */
export interface BundleOutputs {
  /** The entry file's output path, as the metafile names it. */
  entry: string;
  /** The exports of the entry file (`handler`, for every Rota function). */
  exports: string[];
  /** The entry and every chunk it imports statically, transitively: what a cold start loads. */
  coldFiles: string[];
  /** Their minified bytes, without source maps. */
  coldBytes: number;
  /** The source files in them. */
  coldInputs: Set<string>;
  /** The chunks only a dynamic `import()` reaches, with their bytes. */
  lazyChunks: { file: string; bytes: number }[];
}

/**
 * Reads a split build's metafile (infra/bundling.ts): "cold import" is the entry plus
 * each chunk it imports statically, since Node.js loads those before the module's
 * first line runs; a chunk behind a dynamic `import()` loads on first use of its path
 * and is counted apart, never left out.
 */
export function bundleOutputs(metafile: Metafile): BundleOutputs {
  const outputs = metafile.outputs;
  // A dynamic import()'s target is an entry point to esbuild too; the function's own is the one outside chunks/.
  const entries = Object.entries(outputs).filter(
    ([file, o]) => o.entryPoint && !file.endsWith('.map') && !/(^|\/)chunks\//.test(file),
  );
  const [entry, entryOutput] = entries[0] ?? [];
  if (!entry || !entryOutput || entries.length !== 1)
    throw new Error('the build has not exactly one entry output');
  const cold = new Set<string>();
  const visit = (file: string) => {
    if (cold.has(file)) return;
    cold.add(file);
    for (const imported of outputs[file]?.imports ?? []) {
      if (imported.kind === 'import-statement' && !imported.external && outputs[imported.path])
        visit(imported.path);
    }
  };
  visit(entry);
  const code = Object.entries(outputs).filter(([file]) => !file.endsWith('.map'));
  return {
    entry,
    exports: entryOutput.exports,
    coldFiles: [...cold],
    coldBytes: [...cold].reduce((sum, file) => sum + (outputs[file]?.bytes ?? 0), 0),
    coldInputs: new Set([...cold].flatMap((file) => Object.keys(outputs[file]?.inputs ?? {}))),
    lazyChunks: code.filter(([file]) => !cold.has(file)).map(([file, o]) => ({ file, bytes: o.bytes })),
  };
}

/** Every source file in any output of the build: what the function can ever run, lazy chunks included. */
export function bundledInputs(metafile: Metafile): Set<string> {
  return new Set(Object.values(metafile.outputs).flatMap((o) => Object.keys(o.inputs)));
}
