import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RecordedCall } from '../../lib/observability/aws-calls';

export interface Recording {
  dir: string;
  files: number;
  /** Functions whose handler ran at least once. */
  invoked: Set<string>;
  /** Distinct AWS calls made inside a function's scope. */
  calls: RecordedCall[];
}

/** Everything the integration and e2e projects recorded in this run (see vitest.config.ts). */
export function readRecording(): Recording {
  const dir = process.env.ROTA_AWS_CALL_LOG ?? '';
  const files = dir && existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.jsonl')) : [];
  const invoked = new Set<string>();
  const seen = new Set<string>();
  const calls: RecordedCall[] = [];
  for (const file of files) {
    for (const line of readFileSync(join(dir, file), 'utf8').split('\n')) {
      if (!line.trim() || seen.has(line)) continue;
      seen.add(line);
      const call = JSON.parse(line) as RecordedCall;
      if (call.invoked) invoked.add(call.fn);
      else calls.push(call);
    }
  }
  return { dir, files: files.length, invoked, calls };
}
