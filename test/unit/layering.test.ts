import { join } from 'node:path';
import madge from 'madge';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');

/** Every import, type-only ones included: a type cycle is still a design cycle. */
let graph: Record<string, string[]>;
let circular: string[][];

beforeAll(async () => {
  const result = await madge(['lib', 'functions', 'local', 'infra'], {
    baseDir: ROOT,
    fileExtensions: ['ts'],
    tsConfig: join(ROOT, 'tsconfig.json'),
    detectiveOptions: { ts: { skipTypeImports: false } },
  });
  graph = result.obj();
  circular = result.circular();
}, 60_000);

/** `lib/task`, `lib/systems/checks`; a file at lib/'s top level is its own unit. */
const unitOf = (file: string) => {
  const parts = file.split('/');
  if (parts[0] !== 'lib') return parts[0] ?? file;
  if (parts[1] === 'systems' && parts.length > 3) return `lib/systems/${parts[2]}`;
  return parts.length === 2 ? file : `lib/${parts[1]}`;
};
const importsOf = (from: (file: string) => boolean, to: (file: string) => boolean) =>
  Object.entries(graph).flatMap(([file, deps]) =>
    from(file) ? deps.filter(to).map((dep) => `${file} -> ${dep}`) : [],
  );
const inFolder = (folder: string) => (file: string) => file.startsWith(`${folder}/`);
const SYSTEM_FOLDERS = /^lib\/systems\/[^/]+\//;

describe('the import graph', () => {
  it('has no cycle between files (what .ci/run checks with madge --circular)', () => {
    expect(Object.keys(graph).length).toBeGreaterThan(100);
    expect(circular).toEqual([]);
  });

  it('keeps the generic runners free of any system', () => {
    expect(importsOf(inFolder('lib/runners'), inFolder('lib/systems'))).toEqual([]);
  });

  it('lets no core module import a system: systems depend on the core, never the reverse', () => {
    // The core may use the system contract (lib/systems/system.ts), never a system or the
    // registry. The composition root (lib/composition/) builds the core's parts; a system
    // names the parts it uses and builds its own stores on the root's table, so no part
    // of the root knows a system either.
    const core = (file: string) => file.startsWith('lib/') && !file.startsWith('lib/systems/');
    const system = (dep: string) => SYSTEM_FOLDERS.test(dep) || dep === 'lib/systems/registry.ts';
    expect(importsOf(core, system)).toEqual([]);
    expect(importsOf(inFolder('lib/composition'), (dep) => dep.startsWith('lib/systems/'))).toEqual([
      'lib/composition/engine.ts -> lib/systems/services.ts',
      'lib/composition/engine.ts -> lib/systems/system.ts',
      'lib/composition/systems.ts -> lib/systems/services.ts',
    ]);
  });

  it('has no cycle between systems (rules read check statuses; labelled systems mount the labels routes; labels know none)', () => {
    const uses = new Set(
      importsOf(
        (file) => SYSTEM_FOLDERS.test(file),
        (dep) => SYSTEM_FOLDERS.test(dep),
      )
        .map((edge) => edge.split(' -> ').map(unitOf).join(' -> '))
        .filter((edge) => {
          const [from, to] = edge.split(' -> ');
          return from !== to && to !== 'lib/systems/shared';
        }),
    );
    expect([...uses].filter((edge) => uses.has(edge.split(' -> ').reverse().join(' -> ')))).toEqual([]);
    expect([...uses].sort()).toEqual([
      'lib/systems/checks -> lib/systems/labels',
      'lib/systems/notifications -> lib/systems/checks',
      'lib/systems/notifications -> lib/systems/labels',
      'lib/systems/tasks -> lib/systems/labels',
    ]);
  });

  it('has no cycle between task and auth, run and queue, or http and auth', () => {
    for (const [a, b] of [
      ['lib/task', 'lib/auth'],
      ['lib/run', 'lib/queue'],
      ['lib/http', 'lib/auth'],
    ] as const) {
      const there = importsOf(inFolder(a), inFolder(b));
      const back = importsOf(inFolder(b), inFolder(a));
      expect(there.length === 0 || back.length === 0, `${a} <-> ${b}: ${[...there, ...back]}`).toBe(true);
    }
  });
});
