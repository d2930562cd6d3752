/**
 * Lists functions over 60 lines and files over 400 lines (issue 13's limits), so the
 * check is a script, not a reading. Usage: `npx tsx scripts/size-check.ts [paths…]`
 * (default: lib functions infra local). Exits 1 when anything is over.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';

const MAX_FUNCTION_LINES = 60;
const MAX_FILE_LINES = 400;

function filesUnder(path: string): string[] {
  if (statSync(path).isFile()) return path.endsWith('.ts') ? [path] : [];
  return readdirSync(path).flatMap((entry) => filesUnder(join(path, entry)));
}

function nameOf(node: ts.Node, source: ts.SourceFile): string {
  const named = node as ts.Node & { name?: ts.Node };
  if (named.name) return named.name.getText(source);
  const parent = node.parent;
  if (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent)) return parent.name.getText(source);
  return '(anonymous)';
}

function longFunctions(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const lineOf = (pos: number) => source.getLineAndCharacterOfPosition(pos).line + 1;
  const visit = (node: ts.Node) => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const start = lineOf(node.getStart(source));
      const lines = lineOf(node.getEnd()) - start + 1;
      if (lines > MAX_FUNCTION_LINES) found.push(`${file}:${start} ${nameOf(node, source)} ${lines} lines`);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  const fileLines = text.split('\n').length;
  if (fileLines > MAX_FILE_LINES) found.push(`${file} ${fileLines} lines (file)`);
  return found;
}

const roots = process.argv.slice(2);
const over = (roots.length > 0 ? roots : ['lib', 'functions', 'infra', 'local'])
  .flatMap(filesUnder)
  .flatMap(longFunctions);
for (const line of over) console.log(line);
process.exitCode = over.length > 0 ? 1 : 0;
