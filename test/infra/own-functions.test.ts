import { beforeAll, describe, expect, it } from 'vitest';
import type { RecordedCall } from '../../lib/observability/aws-calls';
import { evaluate } from '../contract/evaluate';
import { ACCOUNT, REGION, type SynthesizedService, synthesize } from '../support/template';

// Issue 11: a user-supplied target never reaches Rota's own resources. The runtime cannot
// tell a Rota function from any other by name, so the executor's role denies them.
const invoke = (arn: string): RecordedCall => ({
  fn: 'executor',
  service: 'lambda',
  operation: 'Invoke',
  action: 'lambda:InvokeFunction',
  role: 'target',
  resource: arn,
});
const decisionFor = async (stack: SynthesizedService, arn: string) =>
  (await evaluate(invoke(arn), stack, { kind: 'function', arn })).decision;

describe('the executor and Rota’s own functions', () => {
  const everyFunction = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:*`;
  const foreign = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:report-builder`;
  let wildcard: SynthesizedService;
  let listed: SynthesizedService;

  beforeAll(() => {
    wildcard = synthesize('wildcard targetLambdaArns', { targetLambdaArns: [everyFunction] });
    listed = synthesize('one listed function', { targetLambdaArns: [foreign] });
  });

  it('may invoke the functions the operator listed, even through a wildcard', async () => {
    expect(await decisionFor(wildcard, foreign)).toBe('Allowed');
    expect(await decisionFor(listed, foreign)).toBe('Allowed');
  });

  it('may invoke none of Rota’s functions, nor a version or alias of one, whatever the wildcard', async () => {
    const own = [...wildcard.functionArns.entries()];
    expect(own.map(([name]) => name)).toEqual(
      expect.arrayContaining(['executor', 'dead-letter', 'scheduler']),
    );
    for (const [name, arn] of own) {
      expect({ name, decision: await decisionFor(wildcard, arn) }).toEqual({
        name,
        decision: 'ExplicitlyDenied',
      });
      expect({ name, decision: await decisionFor(wildcard, `${arn}:live`) }).toEqual({
        name,
        decision: 'ExplicitlyDenied',
      });
    }
  });

  it('adds no deny when the operator lists no Lambda target (nothing is allowed then)', () => {
    const bare = synthesize('no targets', {});
    const statements = (bare.roles.get('executor')?.policies ?? []).flatMap((p) => p.Statement);
    expect(statements.filter((s) => s.Effect === 'Deny')).toEqual([]);
    expect(statements.filter((s) => JSON.stringify(s.Action).includes('lambda:InvokeFunction'))).toEqual([]);
  });
});
