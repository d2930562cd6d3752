// Imports one bundle in this fresh process and prints how long the import took (ms).
const started = performance.now();
const mod = await import(process.argv[2]);
const importMs = performance.now() - started;
if (typeof mod.handler !== 'function') throw new Error('the bundle exports no handler');
process.stdout.write(`${JSON.stringify({ importMs })}\n`);
process.exit(0);
