import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { freshRunID } from '../../lib/run/run-ids';
import { ATTR, runSk, taskPk } from '../../lib/store/keys';
import { createRunStore } from '../../lib/store/run-store';
import { createStatusStore } from '../../lib/systems/checks/status-store';
import { type Backend, backends, createTestTable, describeEach, dynamoClient } from '../support/emulators';

const DAY = 86_400_000;

describeEach(backends())('run retention and status time ranges on $name', ({ start }) => {
  let backend: Backend;
  let client: ReturnType<typeof dynamoClient>;
  let tableName: string;

  beforeAll(async () => {
    backend = await start();
    client = dynamoClient(backend.dynamoEndpoint);
    tableName = await createTestTable(client);
  });
  afterAll(async () => {
    client.destroy();
    await backend.stop();
  });

  it('gives every run a TTL of the configured retention', async () => {
    const runs = createRunStore({ client, tableName, retentionMs: 3 * DAY });
    const id = freshRunID(Date.now());
    const before = Date.now();
    await runs.create(
      {
        id,
        taskID: 't-ttl',
        status: 'scheduled',
        kind: 'manual',
        scheduledFor: new Date().toISOString(),
        attempt: 1,
        log: [],
      },
      Date.now() + 60_000,
    );
    const out = await client.send(
      new GetItemCommand({
        TableName: tableName,
        Key: marshall({ [ATTR.pk]: taskPk('t-ttl'), [ATTR.sk]: runSk(id) }),
      }),
    );
    const expiresAt = Number(out.Item?.[ATTR.ttl]?.N);
    // TTL is epoch seconds, three days out.
    expect(expiresAt).toBeGreaterThanOrEqual(Math.floor((before + 3 * DAY) / 1000));
    expect(expiresAt).toBeLessThanOrEqual(Math.ceil((Date.now() + 3 * DAY) / 1000));
    // The TTL attribute is storage detail, not part of the run.
    expect(await runs.get('t-ttl', id)).not.toHaveProperty(ATTR.ttl);
  });

  it('lists a check statuses newest first within a time range, with a limit', async () => {
    const statuses = createStatusStore({ client, tableName, retentionMs: DAY });
    const times = [
      '2026-01-01T00:00:00.000Z',
      '2026-01-01T00:01:00.000Z',
      '2026-01-01T00:02:00.000Z',
      '2026-01-01T00:03:00.000Z',
    ];
    for (const [i, time] of times.entries()) {
      await statuses.write('org', {
        time,
        recordedAt: time,
        checkID: 'c-range',
        checkName: 'c',
        level: 'OK',
        message: `m${i}`,
        tags: {},
        runID: `r${i}`,
      });
    }
    const all = await statuses.list('c-range', { limit: 10 });
    expect(all.map((s) => s.message)).toEqual(['m3', 'm2', 'm1', 'm0']);
    const window = await statuses.list('c-range', { limit: 10, afterTime: times[1], beforeTime: times[2] });
    expect(window.map((s) => s.message)).toEqual(['m2', 'm1']);
    expect(
      (await statuses.list('c-range', { limit: 1, beforeTime: times[2] })).map((s) => s.message),
    ).toEqual(['m2']);
    // Rules read the org's statuses by write time, oldest first.
    expect((await statuses.writtenSince('org', times[1] ?? '', 10)).map((s) => s.message)).toEqual([
      'm2',
      'm3',
    ]);
  });
});
