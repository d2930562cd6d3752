/**
 * fauxqs on a data dir, in a process of its own, so a test can SIGKILL it. Prints
 * `{"endpoint": …}` on one line once it listens, then waits to be killed.
 */
import { startFauxqs } from '../../local/emulators';

const dataDir = process.argv[2];
if (!dataDir) throw new Error('usage: fauxqs-process.ts <data dir>');
const sqs = await startFauxqs({ dataDir });
process.stdout.write(`${JSON.stringify({ endpoint: sqs.endpoint })}\n`);
setInterval(() => {}, 60_000);
