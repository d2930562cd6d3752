import { randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

// Four tiers, one runner. Logs stay quiet unless a test captures them on purpose.
const env = { POWERTOOLS_LOG_LEVEL: 'SILENT', POWERTOOLS_DEV: 'false', AWS_REGION: 'us-east-1' };

/**
 * Where the integration and e2e suites record every AWS call a function makes
 * (lib/observability/aws-calls.ts), for the contract project to check against the
 * synthesized roles. One directory per run; earlier runs' recordings are removed. A
 * ROTA_AWS_CALL_LOG set by the caller is kept as it is, so the contract project can be
 * rerun alone against an earlier recording.
 */
function awsCallLog(): string {
  if (process.env.ROTA_AWS_CALL_LOG) return process.env.ROTA_AWS_CALL_LOG;
  const root = join(import.meta.dirname, 'node_modules', '.cache', 'rota-aws-calls');
  mkdirSync(root, { recursive: true });
  for (const old of readdirSync(root)) rmSync(join(root, old), { recursive: true, force: true });
  const dir = join(root, randomUUID());
  // Set here too, so processes the suites spawn (npm start) record into the same place.
  process.env.ROTA_AWS_CALL_LOG = dir;
  return dir;
}
const recording = { ...env, ROTA_AWS_CALL_LOG: awsCallLog() };

export default defineConfig({
  test: {
    projects: [
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts'], env } },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          env: recording,
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'infra',
          include: ['test/infra/**/*.test.ts'],
          env,
          testTimeout: 180_000,
          hookTimeout: 180_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          exclude: ['test/e2e/durability.test.ts'],
          env: recording,
          testTimeout: 120_000,
          hookTimeout: 60_000,
        },
      },
      {
        // The SIGKILL experiment asserts that every capped task drains its backlog within a
        // bound; on two cores shared with the other suites it measured their load instead.
        // It runs alone, after them.
        test: {
          name: 'durability',
          include: ['test/e2e/durability.test.ts'],
          env: recording,
          sequence: { groupOrder: 1 },
          testTimeout: 180_000,
          hookTimeout: 60_000,
        },
      },
      {
        // Runs after every other project has finished (groupOrder): it reads what the
        // integration and e2e suites recorded.
        test: {
          name: 'contract',
          include: ['test/contract/**/*.test.ts'],
          env: recording,
          sequence: { groupOrder: 2 },
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
