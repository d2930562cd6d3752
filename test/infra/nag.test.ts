import { App, Aspects, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';

const AWS_SOLUTIONS = Match.stringLikeRegexp('AwsSolutions-.*');

interface NagSuppression {
  id: string;
  reason: string;
  applies_to?: unknown[];
}

function findings(stack: Stack) {
  const annotations = Annotations.fromStack(stack);
  const line = (m: { id: string; entry: { data?: unknown } }) =>
    `${m.id}: ${String(m.entry.data).split('\n')[0]}`;
  return {
    errors: annotations.findError('*', AWS_SOLUTIONS).map(line),
    warnings: annotations.findWarning('*', AWS_SOLUTIONS).map(line),
  };
}

// The stack `cdk synth` deploys, imported from the app itself: infra/app.ts applies
// AwsSolutionsChecks, so this checks exactly what ships.
let app: App;
let stack: Stack;

beforeAll(async () => {
  ({ app, stack } = await import('../../infra/app'));
});

describe('cdk-nag AwsSolutions', () => {
  it('is applied by the app', () => {
    expect(Aspects.of(app).all.some((aspect) => aspect instanceof AwsSolutionsChecks)).toBe(true);
  });

  it('reports findings in this setup (control: a bare queue fails)', () => {
    const control = new App();
    const bare = new Stack(control, 'Control');
    new sqs.Queue(bare, 'Bare');
    Aspects.of(control).add(new AwsSolutionsChecks());
    expect(findings(bare).errors).toEqual(
      expect.arrayContaining([
        expect.stringContaining('AwsSolutions-SQS3'),
        expect.stringContaining('AwsSolutions-SQS4'),
      ]),
    );
  });

  it('leaves no unsuppressed error or warning in the Rota stack', () => {
    expect(findings(stack)).toEqual({ errors: [], warnings: [] });
  });

  it('suppresses only with a written reason, and only the findings we expect', () => {
    const suppressions = Object.values(
      Template.fromStack(stack).toJSON().Resources as Record<string, unknown>,
    ).flatMap(
      (r) =>
        (r as { Metadata?: { cdk_nag?: { rules_to_suppress: NagSuppression[] } } }).Metadata?.cdk_nag
          ?.rules_to_suppress ?? [],
    );
    expect(suppressions.length).toBeGreaterThan(0);
    for (const s of suppressions) expect(s.reason.length, s.id).toBeGreaterThan(40);
    expect([...new Set(suppressions.map((s) => s.id))].sort()).toEqual([
      'AwsSolutions-APIG4',
      'AwsSolutions-IAM5',
      // The operator token: a bearer token handed to people, which no rotation Lambda can do.
      'AwsSolutions-SMG4',
    ]);
    // IAM5 is waived for X-Ray's `Resource: *` only, never for a whole policy.
    for (const s of suppressions.filter((x) => x.id === 'AwsSolutions-IAM5')) {
      expect(s.applies_to).toEqual(['Resource::*']);
    }
  });
});
