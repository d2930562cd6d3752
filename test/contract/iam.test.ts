import { beforeAll, describe, expect, it } from 'vitest';
import type { RecordedCall } from '../../lib/observability/aws-calls';
import { type Evaluated, evaluate, resourceOf } from './evaluate';
import { type Recording, readRecording } from './recording';
import { type SynthesizedService, synthesize } from './template';

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
  // Every auth mode: the grants must hold however the API is fronted.
  defaultStack = synthesize('default (token auth)');
  stacks = [defaultStack, synthesize("authMode 'iam'", { authMode: 'iam' })];
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
      .filter((c) => c.role !== 'target')
      .map((c) => ({ call: c, resource: resourceOf(c, defaultStack) }))
      .filter((u) => typeof u.resource === 'string')
      .map((u) => `${u.call.fn} ${u.call.action}: ${String(u.resource)}`);
    expect([...new Set(unmapped)]).toEqual([]);
  });
});

describe.each([0, 1])('every recorded call is allowed (stack %#)', (index) => {
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

async function evaluateAll(calls: RecordedCall[], stack: SynthesizedService): Promise<Evaluated[]> {
  const out: Evaluated[] = [];
  const seen = new Set<string>();
  for (const call of calls) {
    if (!stack.roles.has(call.fn) || call.role === 'target') continue;
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
