import { readFile } from 'node:fs/promises';
import { UnavailableError } from '../errors';
import type { ApiResponse } from './response';
import type { RouteDef } from './route';

/**
 * Where the built console page (infra/console.ts) may be: beside a function bundle
 * (the CDK asset and dist/functions/meta-api carry it as `console.html`), or in
 * dist/console when the TypeScript sources run (local mode builds it at start).
 */
const CANDIDATES = [
  new URL('./console.html', import.meta.url),
  new URL('../../dist/console/index.html', import.meta.url),
];

let page: Promise<string | undefined> | undefined;

async function loadPage(): Promise<string | undefined> {
  for (const candidate of CANDIDATES) {
    try {
      return await readFile(candidate, 'utf8');
    } catch {
      // not at this place; try the next
    }
  }
  return undefined;
}

/**
 * `GET /`: the web console, public on purpose: the token is typed into it, and every
 * API call it makes carries that token. The page allows its own inline script and
 * style only (its CSP is in the page), and no framing.
 */
export const consolePageRoute: RouteDef = {
  method: 'GET',
  path: '/',
  summary: 'The web console',
  responses: { 200: { description: 'The console page (text/html), self-contained' } },
  handler: async (): Promise<ApiResponse> => {
    page ??= loadPage();
    const html = await page;
    if (html === undefined) {
      page = undefined;
      throw new UnavailableError('the console is not built: run npm run build');
    }
    return {
      statusCode: 200,
      headers: {
        'content-type': 'text/html; charset=utf-8',
        'cache-control': 'no-cache',
        'content-security-policy': "frame-ancestors 'none'",
        'x-content-type-options': 'nosniff',
        'x-frame-options': 'DENY',
        'referrer-policy': 'no-referrer',
      },
      body: html,
    };
  },
};
