import { HttpError, InfluxDB } from '@influxdata/influxdb-client';
import {
  ChecksAPI,
  LabelsAPI,
  type NotificationEndpoint,
  NotificationEndpointsAPI,
  type NotificationRule,
  NotificationRulesAPI,
  type PostCheck,
  TasksAPI,
} from '@influxdata/influxdb-client-apis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalRota, startLocal } from '../../local/start';
import { createToken } from '../support/auth';
import { type InfluxOperation, type InfluxResponse, influxViolations } from '../support/influx-contract';
import { type RecordedAnswer, recordingTransport } from '../support/influx-recording';

const TOKEN = 'labels-operator-token';
const orgID = 'labels-org';
const otherOrg = 'labels-other-org';

/**
 * InfluxDB's labels and the label routes of tasks, checks, notification rules and
 * endpoints, through InfluxDB's own client, every answer held to InfluxDB's contract.
 */
describe("InfluxDB's labels in local mode, held to the InfluxDB contract", () => {
  let rota: LocalRota;
  const answers: RecordedAnswer[] = [];
  const clients = (token: string) => {
    const plain = new InfluxDB({ url: rota.url, token });
    const influx = new InfluxDB({
      url: rota.url,
      token,
      transport: recordingTransport(plain.transport, answers),
    });
    return {
      labels: new LabelsAPI(influx),
      tasks: new TasksAPI(influx),
      checks: new ChecksAPI(influx),
      rules: new NotificationRulesAPI(influx),
      endpoints: new NotificationEndpointsAPI(influx),
    };
  };
  let op: ReturnType<typeof clients>;

  beforeAll(async () => {
    rota = await startLocal({
      port: 0,
      env: {
        ROTA_BOOTSTRAP_TOKEN: TOKEN,
        ROTA_INFLUX_URL: 'http://127.0.0.1:9',
        ROTA_INFLUX_TOKEN: 'deployment-token',
        ROTA_INFLUX_ORG: 'deployment-org',
      },
    });
    op = clients(TOKEN);
  });
  afterAll(async () => {
    await rota?.stop();
  });

  function expectConforming(operation: InfluxOperation, before: number): InfluxResponse {
    expect(answers).toHaveLength(before + 1);
    const answer = answers[before] as InfluxResponse;
    expect({ operation, violations: influxViolations(operation, answer) }).toEqual({
      operation,
      violations: [],
    });
    return answer;
  }

  /** Runs one client call and checks the answer it got against the operation's contract. */
  async function conforming<T>(method: InfluxOperation['method'], path: string, call: () => Promise<T>) {
    const before = answers.length;
    const result = await call();
    expectConforming({ method, path }, before);
    return result;
  }

  /** A call that must fail with `status`: its `{code, message}` body is held to the contract too. */
  async function refused(
    method: InfluxOperation['method'],
    path: string,
    status: number,
    call: () => Promise<unknown>,
  ): Promise<{ code: string; message: string }> {
    const before = answers.length;
    const error = await call().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(HttpError);
    expect((error as HttpError).statusCode).toBe(status);
    return expectConforming({ method, path }, before).body as { code: string; message: string };
  }

  const newLabel = (name: string, org = orgID, properties?: Record<string, string>) =>
    conforming('POST', '/labels', () => op.labels.postLabels({ body: { orgID: org, name, properties } }));

  it('creates, reads, lists, updates and deletes a label; names are unique per org', async () => {
    const created = await newLabel('prod', orgID, { color: 'ffb3b3', description: 'production' });
    const id = created.label?.id ?? '';
    expect(created.label).toEqual({
      id,
      orgID,
      name: 'prod',
      properties: { color: 'ffb3b3', description: 'production' },
    });
    expect(created.links?.self).toBe(`/api/v2/labels/${id}`);

    const duplicate = await refused('POST', '/labels', 409, () =>
      op.labels.postLabels({ body: { orgID, name: 'prod' } }),
    );
    expect(duplicate.code).toBe('conflict');
    expect(duplicate.message).toContain('prod');
    // Another org may use the same name.
    await newLabel('prod', otherOrg);

    const got = await conforming('GET', '/labels/{labelID}', () => op.labels.getLabelsID({ labelID: id }));
    expect(got.label?.name).toBe('prod');
    const listed = await conforming('GET', '/labels', () => op.labels.getLabels({ orgID }));
    expect(listed.labels?.map((l) => l.name)).toEqual(['prod']);

    // A property sent as "" is removed, as InfluxDB documents.
    const patched = await conforming('PATCH', '/labels/{labelID}', () =>
      op.labels.patchLabelsID({ labelID: id, body: { name: 'production', properties: { description: '' } } }),
    );
    expect(patched.label).toMatchObject({ name: 'production', properties: { color: 'ffb3b3' } });
    expect(patched.label?.properties).not.toHaveProperty('description');
    // The old name is free again; the new one is taken.
    const reused = await newLabel('prod');
    await refused('PATCH', '/labels/{labelID}', 409, () =>
      op.labels.patchLabelsID({ labelID: reused.label?.id ?? '', body: { name: 'production' } }),
    );

    await conforming('DELETE', '/labels/{labelID}', () => op.labels.deleteLabelsID({ labelID: id }));
    const gone = await refused('GET', '/labels/{labelID}', 404, () => op.labels.getLabelsID({ labelID: id }));
    expect(gone.code).toBe('not found');
    await newLabel('production');
  });

  it("lists every org's labels for the operator without orgID, as InfluxDB does", async () => {
    const here = (await newLabel('everywhere-a', orgID)).label;
    const there = (await newLabel('everywhere-b', 'labels-other-org')).label;
    const all = await conforming('GET', '/labels', () => op.labels.getLabels());
    const ids = (all.labels ?? []).map((l) => l.id);
    expect(ids).toEqual(expect.arrayContaining([here?.id, there?.id]));
    expect(new Set((all.labels ?? []).map((l) => l.orgID))).toEqual(new Set([orgID, 'labels-other-org']));
  });

  it('refuses a label without a name, naming the field', async () => {
    const bad = await refused('POST', '/labels', 400, () =>
      op.labels.postLabels({ body: { orgID, name: '' } }),
    );
    expect(bad).toMatchObject({ code: 'invalid' });
    expect(bad.message).toContain('name');
  });

  it('attaches labels to a task, shows them on its GET and list, and detaches them', async () => {
    const label = (await newLabel('team-a', orgID, { color: 'blue' })).label;
    const task = await op.tasks.postTasks({
      body: {
        orgID,
        flux: 'option task = {name: "labelled", every: 1h}\n\nfrom(bucket: "b") |> range(start: -1h)',
        status: 'inactive',
      },
    });
    const taskID = task.id;
    const attached = await conforming('POST', '/tasks/{taskID}/labels', () =>
      op.tasks.postTasksIDLabels({ taskID, body: { labelID: label?.id ?? '' } }),
    );
    expect(attached.label).toEqual(label);
    const onTask = await conforming('GET', '/tasks/{taskID}/labels', () =>
      op.tasks.getTasksIDLabels({ taskID }),
    );
    expect(onTask.labels).toEqual([label]);

    const got = await conforming('GET', '/tasks/{taskID}', () => op.tasks.getTasksID({ taskID }));
    expect(got.labels).toEqual([label]);
    const listed = await conforming('GET', '/tasks', () => op.tasks.getTasks({ orgID }));
    expect(listed.tasks?.find((t) => t.id === taskID)?.labels).toEqual([label]);

    await conforming('DELETE', '/tasks/{taskID}/labels/{labelID}', () =>
      op.tasks.deleteTasksIDLabelsID({ taskID, labelID: label?.id ?? '' }),
    );
    expect((await op.tasks.getTasksID({ taskID })).labels).toEqual([]);
    const again = await refused('DELETE', '/tasks/{taskID}/labels/{labelID}', 404, () =>
      op.tasks.deleteTasksIDLabelsID({ taskID, labelID: label?.id ?? '' }),
    );
    expect(again.code).toBe('not found');
  });

  it('a deleted label disappears from what it was attached to', async () => {
    const label = (await newLabel('short-lived')).label;
    const task = await op.tasks.postTasks({
      body: {
        orgID,
        flux: 'option task = {name: "t", every: 1h}\n\nfrom(bucket: "b") |> range(start: -1h)',
        status: 'inactive',
      },
    });
    await op.tasks.postTasksIDLabels({ taskID: task.id, body: { labelID: label?.id ?? '' } });
    await op.labels.deleteLabelsID({ labelID: label?.id ?? '' });
    expect((await op.tasks.getTasksID({ taskID: task.id })).labels).toEqual([]);
    expect((await op.tasks.getTasksIDLabels({ taskID: task.id })).labels).toEqual([]);
  });

  it('labels checks, notification rules and endpoints through their own routes', async () => {
    const label = (await newLabel('monitoring')).label;
    const labelID = label?.id ?? '';
    const check = await op.checks.createCheck({
      body: {
        type: 'threshold',
        status: 'inactive',
        name: 'labelled check',
        orgID,
        query: { text: 'from(bucket: "b") |> range(start: -1m)', editMode: 'advanced' },
        every: '1m',
        statusMessageTemplate: 'x',
        thresholds: [{ type: 'greater', value: 1, level: 'CRIT' }],
      } as PostCheck,
    });
    const checkID = check.id ?? '';
    await conforming('POST', '/checks/{checkID}/labels', () =>
      op.checks.postChecksIDLabels({ checkID, body: { labelID } }),
    );
    expect(
      (await conforming('GET', '/checks/{checkID}/labels', () => op.checks.getChecksIDLabels({ checkID })))
        .labels,
    ).toEqual([label]);
    expect(
      (await conforming('GET', '/checks/{checkID}', () => op.checks.getChecksID({ checkID }))).labels,
    ).toEqual([label]);
    const checks = await conforming('GET', '/checks', () => op.checks.getChecks({ orgID }));
    expect(checks.checks?.find((c) => c.id === checkID)?.labels).toEqual([label]);
    await conforming('DELETE', '/checks/{checkID}/labels/{labelID}', () =>
      op.checks.deleteChecksIDLabelsID({ checkID, labelID }),
    );

    const endpoint = await op.endpoints.createNotificationEndpoint({
      body: {
        orgID,
        name: 'labelled slack',
        type: 'slack',
        status: 'active',
        token: 'xoxb-0000-secret',
      } as unknown as NotificationEndpoint,
    });
    const endpointID = endpoint.id ?? '';
    await conforming('POST', '/notificationEndpoints/{endpointID}/labels', () =>
      op.endpoints.postNotificationEndpointIDLabels({ endpointID, body: { labelID } }),
    );
    expect(
      (
        await conforming('GET', '/notificationEndpoints/{endpointID}/labels', () =>
          op.endpoints.getNotificationEndpointsIDLabels({ endpointID }),
        )
      ).labels,
    ).toEqual([label]);
    const endpoints = await conforming('GET', '/notificationEndpoints', () =>
      op.endpoints.getNotificationEndpoints({ orgID }),
    );
    expect(endpoints.notificationEndpoints?.find((e) => e.id === endpointID)?.labels).toEqual([label]);
    await conforming('DELETE', '/notificationEndpoints/{endpointID}/labels/{labelID}', () =>
      op.endpoints.deleteNotificationEndpointsIDLabelsID({ endpointID, labelID }),
    );

    const rule = await op.rules.createNotificationRule({
      body: {
        orgID,
        name: 'labelled rule',
        type: 'slack',
        status: 'inactive',
        endpointID,
        every: '10m',
        channel: '#ops',
        messageTemplate: 'm',
        statusRules: [{ currentLevel: 'CRIT', previousLevel: 'ANY' }],
        tagRules: [],
      } as unknown as NotificationRule,
    });
    const ruleID = rule.id ?? '';
    await conforming('POST', '/notificationRules/{ruleID}/labels', () =>
      op.rules.postNotificationRuleIDLabels({ ruleID, body: { labelID } }),
    );
    expect(
      (
        await conforming('GET', '/notificationRules/{ruleID}', () =>
          op.rules.getNotificationRulesID({ ruleID }),
        )
      ).labels,
    ).toEqual([label]);
    const rules = await conforming('GET', '/notificationRules', () =>
      op.rules.getNotificationRules({ orgID }),
    );
    expect(rules.notificationRules?.find((r) => r.id === ruleID)?.labels).toEqual([label]);
    await conforming('DELETE', '/notificationRules/{ruleID}/labels/{labelID}', () =>
      op.rules.deleteNotificationRulesIDLabelsID({ ruleID, labelID }),
    );
    expect((await op.rules.getNotificationRulesIDLabels({ ruleID })).labels).toEqual([]);
  });

  it("keeps orgs apart: an org token never sees, lists or attaches another org's label", async () => {
    const foreign = (await newLabel('foreign', otherOrg)).label;
    const foreignID = foreign?.id ?? '';
    const token = await createToken(rota.url, TOKEN, orgID, {
      labels: ['read', 'write'],
      tasks: ['read', 'write'],
    });
    const org = clients(token.token);
    await refused('GET', '/labels/{labelID}', 404, () => org.labels.getLabelsID({ labelID: foreignID }));
    await refused('PATCH', '/labels/{labelID}', 404, () =>
      org.labels.patchLabelsID({ labelID: foreignID, body: { name: 'mine now' } }),
    );
    await refused('DELETE', '/labels/{labelID}', 404, () =>
      org.labels.deleteLabelsID({ labelID: foreignID }),
    );
    const own = await org.labels.getLabels();
    expect(own.labels?.length).toBeGreaterThan(0);
    expect(own.labels?.every((l) => l.orgID === orgID)).toBe(true);
    await refused('GET', '/labels', 403, () => org.labels.getLabels({ orgID: otherOrg }));

    const task = await org.tasks.postTasks({
      body: {
        orgID,
        flux: 'option task = {name: "own", every: 1h}\n\nfrom(bucket: "b") |> range(start: -1h)',
        status: 'inactive',
      },
    });
    const attach = await refused('POST', '/tasks/{taskID}/labels', 404, () =>
      org.tasks.postTasksIDLabels({ taskID: task.id, body: { labelID: foreignID } }),
    );
    expect(attach.message).toContain('label');
    // Even the operator, who sees both orgs, cannot attach one org's label to another's task.
    await refused('POST', '/tasks/{taskID}/labels', 404, () =>
      op.tasks.postTasksIDLabels({ taskID: task.id, body: { labelID: foreignID } }),
    );
  });

  it('needs the labels permission to read labels, and write on the resource to attach one', async () => {
    const label = (await newLabel('permissions')).label;
    const labelID = label?.id ?? '';
    const task = await op.tasks.postTasks({
      body: {
        orgID,
        flux: 'option task = {name: "perm", every: 1h}\n\nfrom(bucket: "b") |> range(start: -1h)',
        status: 'inactive',
      },
    });
    const tasksOnly = clients(
      (await createToken(rota.url, TOKEN, orgID, { tasks: ['read', 'write'] })).token,
    );
    await refused('GET', '/labels', 403, () => tasksOnly.labels.getLabels());
    await refused('POST', '/tasks/{taskID}/labels', 403, () =>
      tasksOnly.tasks.postTasksIDLabels({ taskID: task.id, body: { labelID } }),
    );
    const readOnly = clients(
      (await createToken(rota.url, TOKEN, orgID, { tasks: ['read'], labels: ['read'] })).token,
    );
    const denied = await refused('POST', '/tasks/{taskID}/labels', 403, () =>
      readOnly.tasks.postTasksIDLabels({ taskID: task.id, body: { labelID } }),
    );
    expect(denied.code).toBe('forbidden');
    await refused('POST', '/labels', 403, () =>
      readOnly.labels.postLabels({ body: { orgID, name: 'nope' } }),
    );
    await conforming('GET', '/tasks/{taskID}/labels', () =>
      readOnly.tasks.getTasksIDLabels({ taskID: task.id }),
    );
  });
});
