// A worker thread that runs the function bundles (local/bundles.ts starts it). It imports
// only node: modules (and ./lambda-context.ts, which does too), so Node.js runs it as it is (type stripping), with no loader, and
// its process.env is the environment the worker was started with: local mode's settings,
// which the bundles read at module scope as they read their environment on Lambda.
import { pathToFileURL } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';
// Its methods cannot cross the thread boundary, so the context is rebuilt here.
import { lambdaContext } from './lambda-context.ts';

type Handler = (event: unknown, context: unknown) => Promise<unknown>;

interface Call {
  id: number;
  fn: string;
  event: unknown;
  functionName: string;
  remainingMs: number;
}

const port = parentPort;
if (!port) throw new Error('local/bundle-host.ts runs as a worker thread');
const { bundles } = workerData as { bundles: Record<string, string> };
const handlers = new Map<string, Handler>();

async function load(): Promise<void> {
  for (const [fn, path] of Object.entries(bundles)) {
    try {
      const module = (await import(pathToFileURL(path).href)) as { handler?: unknown };
      if (typeof module.handler !== 'function') throw new Error('it exports no handler');
      handlers.set(fn, module.handler as Handler);
    } catch (error) {
      port?.postMessage({ loaded: false, error: `the ${fn} bundle failed to load: ${String(error)}` });
      return;
    }
  }
  port?.postMessage({ loaded: true });
}

port.on('message', (call: Call) => {
  const handler = handlers.get(call.fn);
  const run = handler
    ? handler(call.event, lambdaContext(call.functionName, call.remainingMs))
    : Promise.reject(new Error(`no bundle for ${call.fn}`));
  run.then(
    (result) => port.postMessage({ id: call.id, ok: true, result }),
    (error: unknown) =>
      port.postMessage({
        id: call.id,
        ok: false,
        error: { name: (error as Error)?.name, message: (error as Error)?.message ?? String(error) },
      }),
  );
});

await load();
