import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { describe, expect, it } from 'vitest';
import { TaskService } from '../../infra/task-service';

// biome-ignore lint/suspicious/noExplicitAny: CloudFormation properties are read as the template has them.
type Resource = { Type: string; Properties: Record<string, any> };

function synth(influx?: { url: string; org?: string }) {
  const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Influx');
  const secret = new secretsmanager.Secret(stack, 'InfluxToken');
  new TaskService(stack, 'Rota', influx === undefined ? {} : { influx: { ...influx, tokenSecret: secret } });
  const resources = Template.fromStack(stack).toJSON().Resources as Record<string, Resource>;
  const secretId = Object.entries(resources).find(
    ([id, r]) => r.Type === 'AWS::SecretsManager::Secret' && id.startsWith('InfluxToken'),
  )?.[0];
  return { template: Template.fromStack(stack), resources, secretId };
}

/** The functions whose role may call `action`, by their POWERTOOLS_SERVICE_NAME. */
function callersOf(resources: Record<string, Resource>, action: string, resource: unknown): string[] {
  const roles = Object.entries(resources)
    .filter(([, r]) => r.Type === 'AWS::IAM::Policy')
    .filter(([, r]) =>
      (r.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[]).some(
        (s) =>
          [s.Action].flat().includes(action) && JSON.stringify(s.Resource).includes(JSON.stringify(resource)),
      ),
    )
    .flatMap(([, r]) => (r.Properties.Roles as { Ref: string }[]).map((role) => role.Ref));
  return Object.values(resources)
    .filter((r) => r.Type === 'AWS::Lambda::Function' && roles.includes(r.Properties.Role['Fn::GetAtt'][0]))
    .map((r) => r.Properties.Environment.Variables.POWERTOOLS_SERVICE_NAME as string);
}

describe('the influx prop', () => {
  it("gives the executor the InfluxDB's address, and GetSecretValue on its token to the executor alone", () => {
    const { template, resources, secretId } = synth({ url: 'https://influx.example.com', org: 'ops' });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          POWERTOOLS_SERVICE_NAME: 'rota-executor',
          ROTA_INFLUX_URL: 'https://influx.example.com',
          ROTA_INFLUX_ORG: 'ops',
          ROTA_INFLUX_TOKEN_SECRET_ARN: { Ref: secretId },
        }),
      },
    });
    expect(callersOf(resources, 'secretsmanager:GetSecretValue', { Ref: secretId })).toEqual([
      'rota-executor',
    ]);
    for (const r of Object.values(resources).filter((r) => r.Type === 'AWS::Lambda::Function')) {
      const vars = r.Properties.Environment.Variables as Record<string, unknown>;
      if (vars.POWERTOOLS_SERVICE_NAME !== 'rota-executor') expect(vars.ROTA_INFLUX_URL).toBeUndefined();
    }
  });

  it('without it, no function knows of an InfluxDB', () => {
    const { resources } = synth();
    for (const r of Object.values(resources).filter((r) => r.Type === 'AWS::Lambda::Function')) {
      expect(
        Object.keys(r.Properties.Environment.Variables).filter((k) => k.startsWith('ROTA_INFLUX')),
      ).toEqual([]);
    }
  });
});
