// A worker thread that runs the function bundles (local/bundles.ts starts it). It imports
// only node: modules, so Node.js runs it as it is (type stripping), with no loader, and
// its process.env is the environment the worker was started with: local mode's settings,
// which the bundles read at module scope as they read their environment on Lambda.
import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';

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

/** What Lambda hands a handler; its methods cannot cross the thread boundary, so they are rebuilt here. */
function lambdaContext(functionName: string, remainingMs: number) {
  const deadline = Date.now() + remainingMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

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
