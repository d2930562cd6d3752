import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Context } from 'aws-lambda';
import { LOCAL_CREDENTIALS } from './config';
import type { HandlerLoader } from './mounts';

const HOST = fileURLToPath(new URL('./bundle-host.ts', import.meta.url));

type Reply =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; error: { name?: string; message: string } };

export interface BundleHost {
  load: HandlerLoader;
  stop(): Promise<void>;
}

/**
 * Builds every function's bundle, exactly as the CDK assets are built, and runs them in
 * one worker thread whose environment is local mode's settings (`variables`) over this
 * process's own: each bundle reads its configuration from process.env at module scope,
 * as on Lambda, and this process's environment is never touched. A bundle that fails
 * to load fails the start, naming it.
 */
export async function startBundleHost(
  variables: Record<string, string>,
  bundles?: Record<string, string>,
): Promise<BundleHost> {
  const paths = bundles ?? (await buildBundles());
  const worker = new Worker(HOST, {
    workerData: { bundles: paths },
    env: {
      ...process.env,
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      ...variables,
    },
    // The host imports only node: modules; no TypeScript loader is needed or inherited.
    execArgv: [],
  });
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  // Once the worker is gone, every call in flight and every later call fails instead of hanging.
  let gone: Error | undefined;
  const failAll = (error: Error) => {
    gone ??= error;
    for (const call of pending.values()) call.reject(error);
    pending.clear();
  };
  worker.on('error', failAll);
  worker.on('exit', (code) => failAll(new Error(`the bundle worker exited (${code})`)));
  await loaded(worker);
  worker.on('message', (reply: Reply) => {
    const call = pending.get(reply.id);
    pending.delete(reply.id);
    if (reply.ok) call?.resolve(reply.result);
    else call?.reject(Object.assign(new Error(reply.error.message), { name: reply.error.name ?? 'Error' }));
  });
  let next = 0;
  const invoke = (fn: string, event: unknown, context: Context) =>
    new Promise<unknown>((resolve, reject) => {
      if (gone) return reject(gone);
      const id = next++;
      pending.set(id, { resolve, reject });
      const remainingMs = context.getRemainingTimeInMillis();
      worker.postMessage({ id, fn, event, functionName: context.functionName, remainingMs });
    });
  return {
    load: async (name) => {
      if (!paths[name]) throw new Error(`no bundle for ${name}`);
      return (event: unknown, context: Context) => invoke(name, event, context);
    },
    stop: async () => {
      await worker.terminate();
    },
  };
}

/** Resolves once every bundle loaded; rejects with the first one that did not, or if the worker dies. */
function loaded(worker: Worker): Promise<void> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number) => reject(new Error(`the bundle worker exited (${code}) while loading`));
    worker.once('error', reject);
    worker.once('exit', onExit);
    worker.once('message', (message: { loaded: boolean; error?: string }) => {
      worker.off('error', reject);
      worker.off('exit', onExit);
      if (message.loaded) resolve();
      else {
        void worker.terminate();
        reject(new Error(message.error));
      }
    });
  });
}

async function buildBundles(): Promise<Record<string, string>> {
  const { bundleAll } = await import('../scripts/bundle');
  return Object.fromEntries((await bundleAll()).map((b) => [b.function, b.path]));
}
