import { createHash, randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { buildSync } from 'esbuild';
import { ROTA_ROOT } from './bundling';

/** The page's name beside a function bundle, where lib/http/console-page.ts looks first. */
export const CONSOLE_FILE = 'console.html';

/** Where the console's one page is built; `functions/meta-api.ts` serves it at `GET /`. */
export const CONSOLE_PAGE = join(ROTA_ROOT, 'dist', 'console', 'index.html');

/**
 * Builds the web console (console/main.tsx, Preact) into one self-contained HTML page:
 * the script and the stylesheet inline, nothing fetched at run time. Its Content
 * Security Policy allows exactly those two inline blocks (by hash) and same-origin API
 * calls, so the page can talk to nothing but the Rota that serves it.
 *
 * Synchronous, because the CDK construct builds it while it is being constructed.
 */
export function buildConsolePage(outfile = CONSOLE_PAGE): string {
  const result = buildSync({
    entryPoints: [join(ROTA_ROOT, 'console', 'main.tsx')],
    bundle: true,
    write: false,
    minify: true,
    format: 'iife',
    target: 'es2022',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    legalComments: 'none',
    absWorkingDir: ROTA_ROOT,
    logLevel: 'warning',
  });
  const script = (result.outputFiles[0]?.text ?? '').replaceAll('</script', '<\\/script');
  const style = readFileSync(join(ROTA_ROOT, 'console', 'style.css'), 'utf8');
  const hash = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;
  const csp = [
    "default-src 'none'",
    `script-src ${hash(script)}`,
    `style-src ${hash(style)}`,
    "connect-src 'self'",
    "img-src 'self' data:",
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="referrer" content="no-referrer">
<title>Rota console</title>
<style>${style}</style>
</head>
<body>
<div id="app"></div>
<script>${script}</script>
</body>
</html>
`;
  mkdirSync(dirname(outfile), { recursive: true });
  // Renamed into place: a server reading the page never sees half of it, even while
  // another local-mode process rebuilds it.
  const partial = `${outfile}.${process.pid}.${randomUUID()}.tmp`;
  writeFileSync(partial, html);
  renameSync(partial, outfile);
  return outfile;
}
