// The emulators on a thread of their own, so that the main thread's CPU time
// (process.threadCpuUsage) is Rota's and the SDK's alone (bench/cpu.ts). Plain
// JavaScript: a worker thread does not inherit tsx's loader. The options are
// local/emulators.ts's, which the other figures use in-process.
import { parentPort } from 'node:worker_threads';
import dynalite from 'dynalite';
import { buildApp } from 'fauxqs';

const dynamo = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
await new Promise((resolve, reject) => {
  dynamo.once('error', reject);
  dynamo.listen(0, '127.0.0.1', resolve);
});
const sqs = buildApp({ logger: false });
await sqs.listen({ port: 0, host: '127.0.0.1' });

parentPort?.on('message', async (message) => {
  if (message !== 'stop') return;
  sqs.server.closeAllConnections?.();
  await sqs.close();
  dynamo.closeAllConnections?.();
  await new Promise((resolve) => dynamo.close(resolve));
  parentPort?.postMessage('stopped');
});
parentPort?.postMessage({
  dynamoEndpoint: `http://127.0.0.1:${dynamo.address().port}`,
  sqsEndpoint: `http://127.0.0.1:${sqs.server.address().port}`,
});
