import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DOCS_PATH, OUTPUT_PATHS, writeOutputs } from '../../bench/output';

const ROOT = join(import.meta.dirname, '..', '..');
const rendered = { mode: 'quick' as const, json: '{"mode":"quick"}\n', markdown: '## Performance\n' };

/** `git check-ignore` exits 0 for an ignored path, 1 for one git would track. */
function ignored(path: string): boolean {
  try {
    execFileSync('git', ['check-ignore', '--quiet', '--no-index', path], { cwd: ROOT });
    return true;
  } catch {
    return false;
  }
}

describe('npm run bench output', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  const tempRoot = () => {
    const dir = mkdtempSync(join(tmpdir(), 'rota-bench-out-'));
    dirs.push(dir);
    return dir;
  };

  it('writes only paths git ignores, so a bench leaves no tracked file modified', () => {
    const written = writeOutputs(tempRoot(), rendered, { writeDocs: false });
    expect(written).toEqual([OUTPUT_PATHS.latest, OUTPUT_PATHS.byMode('quick'), OUTPUT_PATHS.markdown]);
    for (const path of [...written, OUTPUT_PATHS.byMode('full')]) expect(ignored(path), path).toBe(true);
    // The committed copy is not ignored: it is meant to be tracked.
    expect(ignored(DOCS_PATH)).toBe(false);
    const tracked = execFileSync('git', ['ls-files', '--', 'bench/results', 'bench/PERFORMANCE.md'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(tracked.trim()).toBe('');
  });

  it('rewrites docs/performance.md only with --write-docs', () => {
    const without = tempRoot();
    writeOutputs(without, rendered, { writeDocs: false });
    expect(existsSync(join(without, DOCS_PATH))).toBe(false);
    expect(readFileSync(join(without, OUTPUT_PATHS.latest), 'utf8')).toBe(rendered.json);

    const withDocs = tempRoot();
    const written = writeOutputs(withDocs, rendered, { writeDocs: true });
    expect(written).toContain(DOCS_PATH);
    expect(readFileSync(join(withDocs, DOCS_PATH), 'utf8')).toBe(rendered.markdown);
  });
});
