import { readFileSync } from 'node:fs';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { functionEntry } from '../../infra/bundling';
import { API_FUNCTIONS, rotaFunctions, TaskService } from '../../infra/task-service';
import { SYSTEMS } from '../../lib/systems/registry';
import { BACKUPS_BASE_PATH } from '../support/systems/backups';
import { TEST_SYSTEMS } from '../support/systems/registry';
import { synthesize } from '../support/template';

interface Resource {
  Type: string;
  Properties: Record<string, unknown>;
}

/**
 * The test-only system (a folder and one registry line) in a synthesized template: the
 * construct derives its function, its routes and its grants from the registry it is
 * given, with no line of infra about it.
 */
describe('a registry extended with a test-only system', () => {
  let resources: Record<string, Resource>;
  const fnIdOf = (service: string) =>
    Object.entries(resources).find(
      ([, r]) =>
        r.Type === 'AWS::Lambda::Function' &&
        (r.Properties.Environment as { Variables: Record<string, unknown> }).Variables
          .POWERTOOLS_SERVICE_NAME === `rota-${service}`,
    )?.[0];

  beforeAll(() => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'Extended');
    new TaskService(stack, 'Rota', { systems: TEST_SYSTEMS });
    resources = Template.fromStack(stack).toJSON().Resources as Record<string, Resource>;
  });

  it('deploys its API function, behind the token authorizer on its base path', () => {
    const fn = fnIdOf('backups-api');
    expect(fn, 'rota-backups-api').toBeDefined();
    const routes = Object.values(resources)
      .filter((r) => r.Type === 'AWS::ApiGatewayV2::Route')
      .map((r) => r.Properties)
      .filter((p) => String(p.RouteKey).includes(BACKUPS_BASE_PATH));
    expect(routes.map((p) => [p.RouteKey, p.AuthorizationType]).sort()).toEqual([
      [`ANY ${BACKUPS_BASE_PATH}`, 'CUSTOM'],
      [`ANY ${BACKUPS_BASE_PATH}/{proxy+}`, 'CUSTOM'],
    ]);
    const integrations = routes.map((p) => JSON.stringify(p.Target));
    for (const target of integrations) {
      const integrationId = /"Ref":"([^"]+)"/.exec(target)?.[1] ?? '';
      expect(JSON.stringify(resources[integrationId]?.Properties.IntegrationUri)).toContain(fn);
    }
  });

  it('grants it what its module declares: its table uses and the runs queue, nothing more', () => {
    const { roles, arnOf } = synthesize('extended', { systems: TEST_SYSTEMS });
    const statementsOf = (fn: string) => (roles.get(fn)?.policies ?? []).flatMap((p) => p.Statement);
    const on = (fn: string, service: string) =>
      statementsOf(fn).filter((s) => JSON.stringify(s.Action).includes(`"${service}:`));
    // It manages its tasks and their runs, as tasks-api does: the same grants, conditions
    // included. Compared as (action, resource, key prefix) grants, since statements with one action
    // may merge: backups lack the labels' grants and the every-org list's GetItem on the
    // org directory, which only tasks-api has (InfluxDB's GetTasks without orgID).
    const grants = (fn: string) =>
      on(fn, 'dynamodb').flatMap((st) => {
        const leading = st.Condition?.['ForAllValues:StringLike']?.['dynamodb:LeadingKeys'] as
          | string[]
          | undefined;
        const prefixes = leading ?? ['-'];
        const actions: string[] = Array.isArray(st.Action) ? st.Action : [st.Action];
        return actions.flatMap((action) =>
          prefixes.map((prefix) => `${action} ${JSON.stringify(st.Resource)} ${prefix}`),
        );
      });
    const onlyTasksApi = (grant: string) =>
      grant.includes('LABEL') || (grant.startsWith('dynamodb:GetItem') && grant.endsWith(' ORGS#*'));
    expect(new Set(grants('backups-api'))).toEqual(
      new Set(grants('tasks-api').filter((g) => !onlyTasksApi(g))),
    );
    expect(grants('tasks-api').filter((g) => g.includes('LABEL')).length).toBeGreaterThan(0);
    expect(grants('backups-api')).toContainEqual(expect.stringMatching(/^dynamodb:UpdateItem .* ORGS#\*$/));
    const items = on('backups-api', 'dynamodb').filter((s) => s.Resource === arnOf('table'));
    expect(items.length).toBeGreaterThan(0);
    for (const s of items) {
      expect(s.Condition?.['ForAllValues:StringLike']?.['dynamodb:LeadingKeys']).toBeDefined();
    }
    expect(on('backups-api', 'sqs').flatMap((s) => s.Action)).toEqual(['sqs:SendMessage']);
    expect(on('backups-api', 'sqs').flatMap((s) => s.Resource)).toEqual([arnOf('runsQueue')]);
    // It stores no credentials, so it gets no key.
    expect(on('backups-api', 'kms')).toEqual([]);
  });

  it('builds its function, and the executor, from entries generated from the registry: its folder, no line of infra', () => {
    const entryText = (name: string, systems = TEST_SYSTEMS) =>
      readFileSync(
        functionEntry(
          rotaFunctions(systems)
            .find((f) => f.name === name)
            ?.entry() ?? '',
        ),
        'utf8',
      );
    const imports = (text: string) => [...text.matchAll(/^import .* from '([^']+)';$/gm)].map((m) => m[1]);
    expect(imports(entryText('backups-api'))).toEqual([
      '../../functions/definitions/system-api.ts',
      '../../test/support/systems/backups/index.ts',
    ]);
    // Its tokens may name every resource of the registry it is deployed with, its own included.
    expect(entryText('authorizations-api')).toContain(JSON.stringify(TEST_SYSTEMS.resources));
    expect(imports(entryText('executor'))).toContain('../../test/support/systems/backups/index.ts');
    expect(imports(entryText('executor', SYSTEMS))).not.toContain(
      '../../test/support/systems/backups/index.ts',
    );
    // The meta API serves the document of the registry it is deployed with.
    const meta = rotaFunctions(TEST_SYSTEMS).find((f) => f.name === 'meta-api');
    const document = JSON.parse(readFileSync(meta?.files?.()['openapi.json'] ?? '', 'utf8'));
    expect(Object.keys(document.paths)).toContain(BACKUPS_BASE_PATH);
  });

  it('leaves the shipped construct without it', () => {
    expect(API_FUNCTIONS.map((f) => f.name)).not.toContain('backups-api');
    const { roles } = synthesize('shipped');
    expect(roles.has('backups-api')).toBe(false);
    expect(roles.has('tasks-api')).toBe(true);
  });
});
