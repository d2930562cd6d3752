import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatAudit, runExperiment, taskMix } from '../support/durability';

describe.runIf(process.platform === 'linux')('durable runs across SIGKILLs of local mode', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'rota-durability-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('loses, strands and double-starts nothing, creates every retry and keeps every cap', async () => {
    const lines: string[] = [];
    const audit = await runExperiment({
      dataDir,
      tasks: taskMix(14),
      // Two kills, each while runs are queued, delayed, waiting and in flight.
      killsAt: [14, 28],
      downtimeMs: 2_000,
      windowSeconds: 40,
      settleMs: 45_000,
      timeout: '10s',
      // A short claim TTL: a dead executor's runs count as stranded after 6 s, not 30.
      env: { ROTA_CLAIM_TTL_SECONDS: '6' },
      log: (line) => lines.push(line),
    });
    console.log(`${lines.join('\n')}\n${formatAudit(audit)}`);

    expect(audit.kills).toHaveLength(2);
    for (const kill of audit.kills) {
      expect(kill.callsInFlight).toBeGreaterThan(0);
      expect(kill.waitingRuns).toBeGreaterThan(0);
      expect(kill.delayedRuns).toBeGreaterThan(0);
    }
    expect(audit.planned).toBeGreaterThan(200);
    expect(audit.lost).toEqual([]);
    expect(audit.stranded).toEqual([]);
    expect(audit.duplicateStarts).toEqual([]);
    expect(audit.retriesMissing).toEqual([]);
    expect(audit.capViolations).toEqual([]);
    expect(audit.ran).toBe(audit.planned + audit.retries);
    // Runs in flight at a kill started again after the restart, and said so.
    expect(audit.resumedStarts).toBeGreaterThan(0);
    expect(audit.retries).toBeGreaterThan(0);
  }, 170_000);
});
