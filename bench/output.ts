import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * Where `npm run bench` writes, relative to the repository root. All of it is build
 * output, ignored by git (.gitignore), so a bench leaves no tracked file modified.
 */
export const OUTPUT_PATHS = {
  latest: 'bench/results/latest.json',
  byMode: (mode: 'quick' | 'full') => `bench/results/${mode}.json`,
  markdown: 'bench/PERFORMANCE.md',
} as const;

/** The committed copy of the figures: rewritten only with `--write-docs`. */
export const DOCS_PATH = 'docs/performance.md';

function write(root: string, path: string, text: string): void {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), text);
}

export interface RenderedResults {
  mode: 'quick' | 'full';
  /** bench/results/*.json */
  json: string;
  /** bench/PERFORMANCE.md (and docs/performance.md with --write-docs) */
  markdown: string;
}

/** Writes the rendered results under `root`; returns the paths written. */
export function writeOutputs(
  root: string,
  results: RenderedResults,
  options: { writeDocs: boolean },
): string[] {
  const paths = [OUTPUT_PATHS.latest, OUTPUT_PATHS.byMode(results.mode), OUTPUT_PATHS.markdown];
  write(root, OUTPUT_PATHS.latest, results.json);
  write(root, OUTPUT_PATHS.byMode(results.mode), results.json);
  write(root, OUTPUT_PATHS.markdown, results.markdown);
  if (options.writeDocs) {
    write(root, DOCS_PATH, results.markdown);
    paths.push(DOCS_PATH);
  }
  return paths;
}
