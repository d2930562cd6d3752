import { type DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { ulid } from 'ulid';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createLabelStore, type LabelStore } from '../../lib/systems/labels/label-store';
import type { Label } from '../../lib/systems/labels/model';
import { attributed } from '../support/attribution';
import { type Backend, backends, createTestTable, describeEach, dynamoClient } from '../support/emulators';

const label = (orgID: string, name: string, properties: Record<string, string> = {}): Label => ({
  id: ulid().toLowerCase(),
  orgID,
  name,
  properties,
  version: 1,
});

describeEach(backends())('label store on $name', ({ start }) => {
  let backend: Backend;
  let client: DynamoDBClient;
  let tableName: string;
  /** The labels API's view of the store, and a labelled resource's API's. */
  let labels: LabelStore;
  let mappings: LabelStore;

  beforeAll(async () => {
    backend = await start();
    client = dynamoClient(backend.dynamoEndpoint);
    tableName = await createTestTable(client);
    const store = createLabelStore({ client, tableName });
    labels = attributed('labels-api', store);
    mappings = attributed('tasks-api', store);
  });
  afterAll(async () => {
    client.destroy();
    await backend.stop();
  });

  it('stores a label under LABEL#<id> and lists it per org', async () => {
    const prod = label('org-keys', 'prod', { color: 'red' });
    expect(await labels.create(prod)).toBe('ok');
    const raw = await client.send(
      new GetItemCommand({ TableName: tableName, Key: marshall({ PK: `LABEL#${prod.id}`, SK: 'LABEL' }) }),
    );
    expect(raw.Item?.GSI1PK?.S).toBe('org-keys#~label');
    expect(await labels.get(prod.id)).toEqual(prod);
    expect(await labels.list('org-keys')).toEqual([prod]);
    expect(await labels.list('org-none')).toEqual([]);
  });

  it('keeps names unique per org, not across orgs', async () => {
    expect(await labels.create(label('org-a', 'shared'))).toBe('ok');
    expect(await labels.create(label('org-a', 'shared'))).toBe('name taken');
    expect(await labels.create(label('org-b', 'shared'))).toBe('ok');
    expect((await labels.list('org-a')).map((l) => l.name)).toEqual(['shared']);
  });

  it('keeps an org whose id holds # apart from the org it would spell with a name', async () => {
    expect(await labels.create(label('org-x#y', 'z'))).toBe('ok');
    expect(await labels.create(label('org-x', 'y#z'))).toBe('ok');
  });

  it('lets one of many racing creates of a name win', async () => {
    const outcomes = await Promise.all(
      Array.from({ length: 6 }, () => labels.create(label('org-race', 'contended'))),
    );
    expect(outcomes.filter((o) => o === 'ok')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'name taken')).toHaveLength(5);
    expect(await labels.list('org-race')).toHaveLength(1);
  });

  it('moves the name on a rename and frees it on delete', async () => {
    const first = label('org-rename', 'old');
    await labels.create(first);
    const renamed = { ...first, name: 'new', version: 2 };
    expect(await labels.replace(first, renamed)).toBe('ok');
    expect(await labels.create(label('org-rename', 'new'))).toBe('name taken');
    const reuse = label('org-rename', 'old');
    expect(await labels.create(reuse)).toBe('ok');
    // A stale version loses: the label changed since it was read.
    expect(await labels.replace(first, { ...first, name: 'other', version: 2 })).toBe('changed');
    expect(await labels.create(label('org-rename', 'other'))).toBe('ok');
    expect(await labels.remove(renamed)).toBe(true);
    expect(await labels.remove(renamed)).toBe(false);
    expect(await labels.create(label('org-rename', 'new'))).toBe('ok');
  });

  const orphanClaim = (name: string, claimedAt: number) =>
    client.send(
      new PutItemCommand({
        TableName: tableName,
        Item: marshall({
          PK: `LABELNAME#org-stale#${name}`,
          SK: 'NAME',
          orgID: 'org-stale',
          name,
          labelID: 'gone',
          claimedAt,
        }),
      }),
    );

  it('takes over an old name claim a write left behind for a label that does not exist', async () => {
    await orphanClaim('orphan', Date.now() - 120_000);
    expect(await labels.create(label('org-stale', 'orphan'))).toBe('ok');
    expect(await labels.create(label('org-stale', 'orphan'))).toBe('name taken');
  });

  it('leaves a fresh claim alone: its create may still be writing the label', async () => {
    await orphanClaim('in-flight', Date.now());
    expect(await labels.create(label('org-stale', 'in-flight'))).toBe('name taken');
  });

  it('maps labels to resources of a kind, read per resource or per org in two queries', async () => {
    const org = 'org-map';
    const red = label(org, 'red');
    const blue = label(org, 'blue');
    await labels.create(red);
    await labels.create(blue);
    await mappings.attach(org, 'task', 't1', red.id);
    await mappings.attach(org, 'task', 't1', blue.id);
    await mappings.attach(org, 'task', 't1', blue.id); // attaching twice is one mapping
    await mappings.attach(org, 'task', 't2', blue.id);
    await mappings.attach(org, 'check', 't1', red.id);

    expect((await mappings.labelsOf(org, 'task', 't1')).map((l) => l.name).sort()).toEqual(['blue', 'red']);
    expect(await mappings.labelsOf(org, 'task', 't3')).toEqual([]);
    const byResource = await mappings.labelsByResource(org, 'task');
    expect([...byResource.keys()].sort()).toEqual(['t1', 't2']);
    expect(byResource.get('t2')).toEqual([blue]);
    expect(await mappings.labelsOf(org, 'check', 't1')).toEqual([red]);
    expect(await mappings.labelsOf('org-other', 'task', 't1')).toEqual([]);

    expect(await mappings.detach(org, 'task', 't1', red.id)).toBe(true);
    expect(await mappings.detach(org, 'task', 't1', red.id)).toBe(false);
    expect(await mappings.labelsOf(org, 'task', 't1')).toEqual([blue]);

    // A deleted label's mappings are skipped, wherever they are read.
    await labels.remove(blue);
    expect(await mappings.labelsOf(org, 'task', 't1')).toEqual([]);
    expect((await mappings.labelsByResource(org, 'task')).size).toBe(0);
  });
});
