import type { TargetPolicy } from '../net/address-policy';
import { redactUrl, safeRequest } from '../net/safe-http';
import type { RunRef } from '../run/model';
import type { HttpTarget } from './target';

/** What a target runner needs of the run it serves. */
export interface TargetRunContext {
  run: RunRef;
  /** Trips on timeout, on cancel, and when the Lambda is about to run out of time. */
  signal: AbortSignal;
  /** Appends a line to the run's log. */
  log(message: string): void;
  /** Deadline for one call to the target. */
  timeoutMs: number;
}

/** How much of a response body reaches the run log. */
const LOGGED_BODY_BYTES = 1024;

/**
 * Calls an HTTP target. Resolves on a 2xx answer and throws otherwise. The log
 * shows method, URL (without user info), status, timing and the start of the
 * body, never header values: they often hold credentials.
 */
export async function runHttpTarget(
  target: HttpTarget,
  ctx: TargetRunContext,
  policy: TargetPolicy,
): Promise<void> {
  const headers: Record<string, string> = { 'user-agent': 'rota' };
  for (const [name, value] of Object.entries(target.headers ?? {})) headers[name.toLowerCase()] = value;
  // Set after the target's own headers, so a target cannot pass off another run's identity.
  headers['x-rota-task-id'] = ctx.run.taskID;
  headers['x-rota-run-id'] = ctx.run.runID;
  headers['x-rota-scheduled-for'] = ctx.run.scheduledFor;

  let body: string | undefined;
  if (typeof target.body === 'string') {
    body = target.body;
  } else if (target.body !== undefined) {
    body = JSON.stringify(target.body);
    headers['content-type'] ??= 'application/json';
  }

  const shown = `HTTP ${target.method} ${redactUrl(target.url)}`;
  const started = Date.now();
  // Logged as they happen: a started run's log shows them while the target is still answering.
  ctx.log(`${shown}: sending request`);
  let response: Awaited<ReturnType<typeof safeRequest>>;
  try {
    response = await safeRequest(
      {
        url: target.url,
        method: target.method,
        headers,
        ...(body === undefined ? {} : { body }),
        signal: ctx.signal,
        timeoutMs: ctx.timeoutMs,
        maxBodyBytes: LOGGED_BODY_BYTES,
        onRedirect: ({ status, to }) =>
          ctx.log(`${shown}: ${status} after ${Date.now() - started} ms, redirected to ${to}`),
      },
      policy,
    );
  } catch (error) {
    ctx.log(
      `${shown} failed after ${Date.now() - started} ms: ${error instanceof Error ? error.message : error}`,
    );
    throw error;
  }

  ctx.log(`${shown} -> ${response.status} in ${Date.now() - started} ms`);
  if (response.body) ctx.log(`response body: ${response.body}${response.truncated ? ' … (truncated)' : ''}`);
  if (response.status < 200 || response.status > 299) throw new Error(`target responded ${response.status}`);
}
