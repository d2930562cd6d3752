import { beforeAll, describe, expect, it } from 'vitest';
import { UNEXERCISED_GRANTS } from '../../infra/task-service';
import type { RecordedCall } from '../../lib/observability/aws-calls';
import { motoUrl } from '../support/emulators';
import { TEST_SYSTEMS } from '../support/systems/registry';
import { type SynthesizedService, synthesize } from '../support/template';
import { type Evaluated, evaluate, matches, resourceOf, targetArn } from './evaluate';
import { type Recording, readRecording } from './recording';

/**
 * The IAM contract: every AWS call a function made while the integration and e2e suites
 * ran (recorded by lib/observability/aws-calls.ts) must be allowed by the role the
 * construct synthesizes for that function, as a real IAM evaluator
 * (@cloud-copilot/iam-simulate) decides it, conditions included. The functions come from
 * the construct (`TaskService.functions`), so a function or a query added later is
 * checked without a line here.
 */

/** Actions every role holds for the Lambda runtime itself (logs, traces): no SDK call of Rota's makes them. */
const RUNTIME_SERVICES = ['logs', 'xray'];

let recording: Recording;
let stacks: SynthesizedService[];
let defaultStack: SynthesizedService;

beforeAll(() => {
  recording = readRecording();
  // Every auth mode: the grants must hold however the API is fronted. The registry adds
  // the test-only system (test/support/systems), so its function's calls meet its own
  // synthesized role exactly as a shipped system's do; the shipped roles are unchanged.
  defaultStack = synthesize('default (token auth)', { systems: TEST_SYSTEMS });
  stacks = [defaultStack, synthesize("authMode 'iam'", { authMode: 'iam', systems: TEST_SYSTEMS })];
});

const grantsBeyondRuntime = (stack: SynthesizedService, fn: string) =>
  (stack.roles.get(fn)?.policies ?? [])
    .flatMap((p) => p.Statement)
    .flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]))
    .filter((a) => !RUNTIME_SERVICES.includes(a.split(':')[0] ?? ''));

describe('the recording', () => {
  it('holds calls from the integration and e2e suites of this run (a contract over nothing is no pass)', () => {
    expect(
      recording.calls.length,
      `no AWS calls recorded in ${recording.dir || '(ROTA_AWS_CALL_LOG unset)'}: run the integration and e2e projects first (npm test runs them before this one)`,
    ).toBeGreaterThan(0);
  });

  it('covers every function the construct declares', () => {
    const silent: string[] = [];
    for (const fn of defaultStack.roles.keys()) {
      if (!recording.invoked.has(fn)) silent.push(`${fn}: its handler never ran`);
      else if (
        grantsBeyondRuntime(defaultStack, fn).length > 0 &&
        !recording.calls.some((c) => c.fn === fn)
      ) {
        silent.push(`${fn}: ran, but made no AWS call although its role grants some`);
      }
    }
    expect(silent, 'functions the suites did not exercise').toEqual([]);
  });

  it('names only functions the construct declares, and only resources it can map', () => {
    const unknownFunctions = [...new Set(recording.calls.map((c) => c.fn))].filter(
      (fn) => !defaultStack.roles.has(fn),
    );
    expect(unknownFunctions, 'recorded under a name no construct function has').toEqual([]);
    const unmapped = recording.calls
      .map((c) => ({ call: c, resource: resourceOf(c, defaultStack) }))
      .filter((u) => typeof u.resource === 'string')
      .map((u) => `${u.call.fn} ${u.call.action}: ${String(u.resource)}`);
    expect([...new Set(unmapped)]).toEqual([]);
  });
});

describe('the evaluator', () => {
  // Controls: calls the roles must refuse are refused, so an "allowed" above means something.
  const decide = async (call: RecordedCall) => {
    const resource = resourceOf(call, defaultStack);
    if (typeof resource === 'string') throw new Error(resource);
    return (await evaluate(call, defaultStack, resource)).decision;
  };

  it('refuses an item outside the partitions a role is confined to', async () => {
    const get = { fn: 'authorizer', action: 'dynamodb:GetItem', role: 'table' as const };
    expect(await decide({ ...get, context: { 'dynamodb:LeadingKeys': ['AUTH#01abc'] } })).toBe('Allowed');
    expect(await decide({ ...get, context: { 'dynamodb:LeadingKeys': ['TASK#01abc'] } })).toBe(
      'ImplicitlyDenied',
    );
  });

  it('refuses a query on an index the role does not name', async () => {
    const query = { fn: 'scheduler', action: 'dynamodb:Query', role: 'table' as const };
    expect(await decide({ ...query, index: 'due', context: { 'dynamodb:LeadingKeys': ['DUE#0'] } })).toBe(
      'Allowed',
    );
    expect(
      await decide({ ...query, index: 'byOrgType', context: { 'dynamodb:LeadingKeys': ['o#task'] } }),
    ).toBe('ImplicitlyDenied');
  });

  it('refuses the secrets key outside Rota’s encryption context, and to a function that only seals', async () => {
    const decrypt = { fn: 'executor', action: 'kms:Decrypt', role: 'secretsKey' as const };
    const purpose = {
      'kms:EncryptionContext:purpose': ['rota-secrets'],
      'kms:EncryptionContextKeys': ['purpose'],
    };
    expect(await decide({ ...decrypt, context: purpose })).toBe('Allowed');
    expect(
      await decide({
        ...decrypt,
        context: { 'kms:EncryptionContext:purpose': ['other'], 'kms:EncryptionContextKeys': ['purpose'] },
      }),
    ).toBe('ImplicitlyDenied');
    expect(await decide({ ...decrypt, fn: 'tasks-api', context: purpose })).toBe('ImplicitlyDenied');
  });
});

describe.each([
  ['default (token auth)', 0],
  ["authMode 'iam'", 1],
] as const)('every recorded call is allowed on the %s stack', (_, index) => {
  let evaluations: Evaluated[];

  beforeAll(async () => {
    const stack = stacks[index];
    if (!stack) throw new Error(`no stack ${index}`);
    evaluations = await evaluateAll(recording.calls, stack);
    printTable(stack.name, evaluations);
  });

  it('by the function’s synthesized role, as a real IAM evaluator decides', () => {
    expect(evaluations.length).toBeGreaterThan(0);
    const denied = evaluations
      .filter((e) => e.decision !== 'Allowed')
      .map(
        (e) =>
          `${e.fn} ${e.action} on ${e.kind} ${JSON.stringify(e.context)}: ${e.decision}${e.detail ? ` ${e.detail}` : ''}`,
      );
    expect([...new Set(denied)], `denied on the ${stacks[index]?.name} stack`).toEqual([]);
  });
});

async function evaluateAll(
  calls: RecordedCall[],
  stack: SynthesizedService,
  which: 'rota' | 'targets' = 'rota',
): Promise<Evaluated[]> {
  const out: Evaluated[] = [];
  const seen = new Set<string>();
  for (const call of calls) {
    if (!stack.roles.has(call.fn) || (call.role === 'target') !== (which === 'targets')) continue;
    const resource = resourceOf(call, stack);
    if (typeof resource === 'string') continue;
    const key = JSON.stringify([call.fn, call.action, resource.arn, call.context, call.via]);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(await evaluate(call, stack, resource));
  }
  return out;
}

function printTable(name: string, evaluations: Evaluated[]): void {
  const rows = new Map<string, { calls: number; denied: number }>();
  for (const e of evaluations) {
    const key = [e.fn, e.action, e.kind + (e.via ? ` (${e.via})` : '')].join('\t');
    const row = rows.get(key) ?? { calls: 0, denied: 0 };
    row.calls++;
    if (e.decision !== 'Allowed') row.denied++;
    rows.set(key, row);
  }
  const lines = [...rows.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, row]) => {
      const [fn, action, kind] = key.split('\t');
      return `| ${fn} | ${action} | ${kind} | ${row.denied === 0 ? 'allowed' : `DENIED (${row.denied} of ${row.calls})`} | ${row.calls} |`;
    });
  console.log(
    [
      `IAM contract, ${name} stack: ${evaluations.length} distinct calls`,
      '| function | action | resource | allowed | distinct calls |',
      '| --- | --- | --- | --- | ---: |',
      ...lines,
    ].join('\n'),
  );
}

describe('targets', () => {
  // The executor reaches exactly the AWS targets the operator lists, and nothing else.
  let targetCalls: RecordedCall[];
  let listed: SynthesizedService;

  beforeAll(() => {
    targetCalls = recording.calls.filter((c) => c.role === 'target');
    const arns = (service: string) => [
      ...new Set(targetCalls.filter((c) => c.service === service).map((c) => targetArn(c))),
    ];
    listed = synthesize('targets listed', {
      targetQueueArns: arns('sqs'),
      targetTopicArns: arns('sns'),
      targetEventBusArns: arns('events'),
      targetLambdaArns: arns('lambda'),
    });
  });

  it('are called by the executor only, in the recording', () => {
    expect(targetCalls.length, 'the aws-targets suite recorded no target call').toBeGreaterThan(0);
    expect([...new Set(targetCalls.map((c) => c.fn))]).toEqual(['executor']);
  });

  it('are allowed once the operator lists them', async () => {
    const evaluations = await evaluateAll(recording.calls, listed, 'targets');
    printTable(listed.name, evaluations);
    expect(evaluations.filter((e) => e.decision !== 'Allowed').map((e) => `${e.action} ${e.arn}`)).toEqual(
      [],
    );
  });

  it('are refused when the operator lists none (the default)', async () => {
    const evaluations = await evaluateAll(recording.calls, defaultStack, 'targets');
    expect(evaluations.length).toBeGreaterThan(0);
    expect(evaluations.filter((e) => e.decision === 'Allowed').map((e) => `${e.action} ${e.arn}`)).toEqual(
      [],
    );
  });
});

describe('least privilege', () => {
  let grants: Grant[];

  beforeAll(async () => {
    const evaluations = await evaluateAll(recording.calls, defaultStack);
    grants = grantsOf(defaultStack).map((grant) => ({
      ...grant,
      used: evaluations.some(
        (e) =>
          e.decision === 'Allowed' &&
          e.fn === grant.fn &&
          e.action === grant.action &&
          matches(grant.resourcePattern, e.arn) &&
          (grant.prefix === undefined ||
            (e.context['dynamodb:LeadingKeys'] ?? []).some((key) => matches(grant.prefix ?? '', key))),
      ),
    }));
    const unused = grants.filter((g) => !g.used);
    console.log(
      [
        `Grants no recorded call used (${unused.length} of ${grants.length}):`,
        ...unused.map((g) => `- ${describeGrant(g)}: ${justification(g)?.reason ?? 'NOT JUSTIFIED'}`),
      ].join('\n'),
    );
  });

  it('lists the grants of every function, beyond the runtime’s logs and traces', () => {
    expect(grants.length).toBeGreaterThan(0);
    expect(new Set(grants.map((g) => g.fn))).toEqual(
      new Set(
        [...defaultStack.roles.keys()].filter((fn) => grantsBeyondRuntime(defaultStack, fn).length > 0),
      ),
    );
  });

  // KMS and Secrets Manager calls are recorded only against moto; without it their grants
  // would read as unused, so the check needs the full recording.
  it.runIf(motoUrl())('uses every grant, or the construct says why it stays', () => {
    const unjustified = grants.filter((g) => !g.used && !justification(g)).map(describeGrant);
    expect(
      unjustified,
      'grants no recorded call used: remove them, or list them in UNEXERCISED_GRANTS',
    ).toEqual([]);
  });

  it('keeps no justification for a grant that is used or no longer exists', () => {
    const stale = UNEXERCISED_GRANTS.filter(
      (note) => !grants.some((g) => !g.used && appliesTo(note, g)) && (motoUrl() || !note.needsMoto),
    ).map((note) => `${note.functions.join(',')} ${note.actions.join(',')} on ${note.resource}`);
    expect(stale, 'UNEXERCISED_GRANTS entries that match no unused grant').toEqual([]);
  });
});

interface Grant {
  fn: string;
  action: string;
  resourcePattern: string;
  kind: string;
  /** The `dynamodb:LeadingKeys` prefix the statement confines the action to. */
  prefix?: string | undefined;
  used?: boolean;
}

function grantsOf(stack: SynthesizedService): Grant[] {
  const kinds = new Map<string, string>();
  for (const role of [
    'table',
    'runsQueue',
    'deadLetterQueue',
    'planningQueue',
    'secretsKey',
    'operatorSecret',
  ] as const) {
    try {
      kinds.set(stack.arnOf(role), role);
    } catch {
      // This stack has no such resource (an operator secret outside token mode).
    }
  }
  const kindOf = (arn: string) => {
    const table = stack.arnOf('table');
    if (arn.startsWith(`${table}/index/`)) return `table${arn.slice(table.length)}`;
    if (arn.startsWith(`${table}/stream/`)) return 'table/stream';
    return kinds.get(arn) ?? [...kinds].find(([known]) => matches(arn, known))?.[1] ?? arn;
  };
  const out: Grant[] = [];
  for (const [fn, role] of stack.roles) {
    for (const statement of role.policies.flatMap((p) => p.Statement)) {
      if (statement.Effect !== 'Allow') continue;
      const actions = Array.isArray(statement.Action) ? statement.Action : [statement.Action];
      const resources = Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];
      const prefixes = statement.Condition?.['ForAllValues:StringLike']?.['dynamodb:LeadingKeys'] as
        | string[]
        | undefined;
      for (const action of actions) {
        if (RUNTIME_SERVICES.includes(action.split(':')[0] ?? '')) continue;
        for (const resourcePattern of resources) {
          for (const prefix of prefixes ?? [undefined]) {
            out.push({ fn, action, resourcePattern, kind: kindOf(resourcePattern), prefix });
          }
        }
      }
    }
  }
  return out;
}

const describeGrant = (g: Grant) => `${g.fn} ${g.action} on ${g.kind}${g.prefix ? ` ${g.prefix}` : ''}`;

const appliesTo = (note: (typeof UNEXERCISED_GRANTS)[number], g: Grant) =>
  note.functions.includes(g.fn) &&
  note.actions.includes(g.action) &&
  note.resource === (g.prefix ? `${g.kind} ${g.prefix}` : g.kind);

const justification = (g: Grant) => UNEXERCISED_GRANTS.find((note) => appliesTo(note, g));
