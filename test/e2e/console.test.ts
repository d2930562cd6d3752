import { existsSync, mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalRota, startLocal } from '../../local/start';
import { ROTA_ROOT } from '../support/local-process';

/** Debian's chromium; .ci/run installs it. Without it the suite shows as skipped. */
const CHROMIUM = '/usr/bin/chromium';
const SHOTS = join(ROTA_ROOT, 'test-artifacts', 'console');
const TOKEN = 'console-test-operator-token';
const ORG = 'console-org';

async function startTarget(): Promise<{ url: string; hits: () => number; close(): Promise<void> }> {
  let hits = 0;
  const server: Server = createServer((req, res) => {
    hits++;
    // `/slow` holds a run long enough for another to wait behind it.
    setTimeout(() => res.writeHead(200).end('ok'), req.url?.endsWith('/slow') ? 8_000 : 150);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    hits: () => hits,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe.runIf(existsSync(CHROMIUM))('web console in headless Chromium', () => {
  let rota: LocalRota;
  let target: Awaited<ReturnType<typeof startTarget>>;
  let browser: Browser;
  let page: Page;
  let taskID: string;

  const api = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${rota.url}${path}`, {
      method,
      headers: { authorization: `Token ${TOKEN}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return (await response.json()) as Record<string, unknown>;
  };
  const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    target = await startTarget();
    rota = await startLocal({ port: 0, env: { ROTA_BOOTSTRAP_TOKEN: TOKEN } });
    // A task with a few finished runs, so the list and the chart have something to show.
    const task = await api('POST', '/api/v2/tasks', {
      orgID: ORG,
      name: 'nightly-report',
      every: '1s',
      target: { kind: 'http', url: target.url, method: 'POST' },
    });
    taskID = String(task.id);
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const { runs } = (await api('GET', `/api/v2/tasks/${taskID}/runs`)) as { runs: { status: string }[] };
      if (runs.filter((r) => r.status === 'success').length >= 3) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    await api('PATCH', `/api/v2/tasks/${taskID}`, { status: 'inactive' });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-background-networking'],
    });
    page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  });
  afterAll(async () => {
    await browser?.close();
    await rota?.stop();
    await target?.close();
  });

  it('is served at GET / without a token, self-contained, and keeps the token in sessionStorage only', async () => {
    const requests: string[] = [];
    page.on('request', (request) => requests.push(request.url()));
    const response = await page.goto(`${rota.url}/`);
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-type']).toContain('text/html');
    await expect(page.getByRole('heading', { name: 'Rota' }).isVisible()).resolves.toBe(true);

    const token = page.getByLabel('Token');
    expect(await token.getAttribute('type')).toBe('password');
    await token.fill(TOKEN);
    await page.getByLabel('Org').fill(ORG);
    await page.getByRole('button', { name: 'Show tasks' }).click();
    await page.getByRole('heading', { name: `Tasks in ${ORG}` }).waitFor();

    const stored = await page.evaluate(() => ({
      session: sessionStorage.getItem('rota.token'),
      local: Object.keys(localStorage).length,
      cookies: document.cookie,
    }));
    expect(stored).toEqual({ session: TOKEN, local: 0, cookies: '' });
    // Nothing but Rota itself is fetched: the page and its API calls.
    for (const url of requests) expect(url.startsWith(rota.url)).toBe(true);
  });

  it('lists the org tasks with status, schedule, last run and next run', async () => {
    const row = page.getByRole('row', { name: /nightly-report/ });
    await row.waitFor();
    const text = await row.innerText();
    expect(text).toContain('inactive');
    expect(text).toContain('every 1s');
    expect(text).toContain('success');
    const headers = await page.getByRole('columnheader').allInnerTexts();
    expect(headers).toEqual(['Name', 'Status', 'Schedule', 'Last run', 'Next run']);
    await shot('tasks-list');
  });

  it('opens the task page with a chart of recent runs, the runs table and a run log', async () => {
    await page.getByRole('link', { name: 'nightly-report' }).click();
    await page.getByRole('heading', { name: 'nightly-report' }).waitFor();
    const chart = page.getByRole('img', { name: /recent runs: \d+ success/ });
    await chart.waitFor();
    expect(await chart.locator('rect').count()).toBeGreaterThanOrEqual(3);

    const rows = page.getByRole('row').filter({ hasText: 'success' });
    expect(await rows.count()).toBeGreaterThanOrEqual(3);
    await rows.first().getByRole('button', { name: 'Logs' }).click();
    const log = page.locator('ol.logs');
    await log.getByText('run succeeded').waitFor();
    expect(await log.innerText()).toContain('HTTP POST');
    await shot('task-page');
  });

  it('"Run now" starts a run that shows up finished without a reload, and "Retry" queues another', async () => {
    // An inactive task takes no manual run (InfluxDB's contract): active again, due only on
    // 29 February, so nothing but these runs reach the target.
    await api('PATCH', `/api/v2/tasks/${taskID}`, { status: 'active', every: null, cron: '0 0 29 2 *' });
    const before = target.hits();
    const successes = () => page.getByRole('row').filter({ hasText: 'success' }).count();
    const already = await successes();
    await page.getByRole('button', { name: 'Run now' }).click();
    await page.waitForFunction(
      (n) => document.querySelectorAll('tbody tr .status-success').length > n,
      already,
      { timeout: 20_000 },
    );
    expect(target.hits()).toBeGreaterThan(before);

    const now = await successes();
    await page
      .getByRole('row')
      .filter({ hasText: 'success' })
      .first()
      .getByRole('button', { name: 'Retry' })
      .click();
    await page.waitForFunction((n) => document.querySelectorAll('tbody tr .status-success').length > n, now, {
      timeout: 20_000,
    });
    await shot('task-page-after-run-now');
  });

  it('"Cancel" ends a run that waits for a slot', async () => {
    // One run at a time, and a slow first run holds the slot: the second waits, queued.
    await api('PATCH', `/api/v2/tasks/${taskID}`, {
      concurrency: 1,
      target: { kind: 'http', url: `${target.url}/slow`, method: 'POST' },
    });
    await api('POST', `/api/v2/tasks/${taskID}/runs`, {});
    const future = new Date(Date.now() + 3_600_000).toISOString();
    const run = await api('POST', `/api/v2/tasks/${taskID}/runs`, { scheduledFor: future });
    const row = page.getByRole('row').filter({ hasText: String(run.id) });
    await row.getByRole('button', { name: 'Cancel' }).click();
    await row.getByText('canceled').waitFor({ timeout: 20_000 });
    const stored = await api('GET', `/api/v2/tasks/${taskID}/runs/${String(run.id)}`);
    expect(stored.status).toBe('canceled');
  });

  it('creates a task with the form and shows API validation errors in an alert', async () => {
    await page.getByRole('link', { name: '← All tasks' }).click();
    await page.getByRole('link', { name: 'New task' }).click();
    await page.getByRole('heading', { name: `New task in ${ORG}` }).waitFor();
    await page.getByLabel('Name').fill('made-in-the-browser');
    await page.getByLabel('Interval').fill('every minute');
    await page.getByLabel('Target URL').fill(target.url);
    await page.getByRole('button', { name: 'Create task' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.innerText()).toMatch(/every/);
    await shot('create-form-error');

    await page.getByLabel('Interval').fill('1h');
    await page.getByRole('button', { name: 'Create task' }).click();
    await page.getByRole('heading', { name: 'made-in-the-browser' }).waitFor();
    const { tasks } = (await api('GET', `/api/v2/tasks?orgID=${ORG}`)) as {
      tasks: { id: string; name: string; every: string }[];
    };
    const made = tasks.find((t) => t.name === 'made-in-the-browser');
    expect(made?.every).toBe('1h');
    await shot('created-task');

    // A credential and a body the form does not show: editing the schedule keeps both.
    const withHeader = { Authorization: 'Bearer kept-by-the-form' };
    await api('PATCH', `/api/v2/tasks/${made?.id}`, {
      target: { kind: 'http', url: target.url, method: 'POST', headers: withHeader, body: '{"n":1}' },
    });
    await page.getByRole('link', { name: 'Edit' }).click();
    await page.getByLabel('Interval').fill('30m');
    await page.getByRole('button', { name: 'Save task' }).click();
    await page.getByText('every 30m').waitFor();
    const edited = await api('GET', `/api/v2/tasks/${made?.id}`);
    expect(edited.every).toBe('30m');
    expect(edited.target).toEqual({
      kind: 'http',
      url: target.url,
      method: 'POST',
      headers: { Authorization: '<redacted>' },
      body: '{"n":1}',
    });
  });
});
