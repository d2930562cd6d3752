import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROTA_ROOT } from '../../infra/bundling';

/** Every TypeScript file under the production folders. */
function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

/**
 * One composition root: production code never writes the process environment and keeps
 * no reset hook for tests. Configuration is parsed into an object and passed down;
 * a test that needs other settings builds its own object.
 */
describe('the composition root has no back doors', () => {
  const files = ['lib', 'functions', 'local', 'infra', 'scripts'].flatMap((dir) =>
    sources(join(ROTA_ROOT, dir)),
  );
  const offending = (pattern: RegExp) =>
    files
      .flatMap((file) =>
        readFileSync(file, 'utf8')
          .split('\n')
          .map((line, i) => ({ line, at: `${relative(ROTA_ROOT, file)}:${i + 1}` })),
      )
      .filter(({ line }) => pattern.test(line))
      .map(({ at, line }) => `${at}: ${line.trim()}`);

  it('scans the production sources', () => {
    expect(files.length).toBeGreaterThan(50);
  });

  it('never assigns process.env', () => {
    expect(
      offending(
        /process\.env(\.\w+|\[[^\]]+\])?\s*(=(?!=)|\?\?=|\|\|=)|Object\.assign\(\s*process\.env|delete process\.env/,
      ),
    ).toEqual([]);
  });

  it('exports no reset hook', () => {
    expect(offending(/export function \w*ForTests\b/)).toEqual([]);
  });
});
