import { Duration } from 'aws-cdk-lib';
import { describe, expect, it, vi } from 'vitest';
import { functionEntry } from '../../infra/bundling';
import { ROTA_FUNCTIONS } from '../../infra/task-service';
import { functionConfigSchema } from '../../lib/function-config';
import { type SynthesizedService, synthesize } from '../support/template';

/**
 * The environment contract: every function reads its configuration through one zod
 * schema at cold start (lib/function-config.ts, plus lib/config.ts and
 * lib/auth/config.ts behind it). Here each function the construct declares starts, as
 * Lambda would start it, under exactly the environment the construct synthesizes for
 * it, every token replaced by the value CloudFormation would give it.
 */

/** Imports the entry afresh (module-scope config and clients included) with only `env` set, as a cold start. */
async function coldStart(entry: string, env: Record<string, string>): Promise<{ handler?: unknown }> {
  vi.resetModules();
  const saved = process.env;
  // What Lambda itself sets, and nothing from this machine's shell.
  process.env = { PATH: saved.PATH, AWS_REGION: 'us-east-1', ...env };
  try {
    return (await import(functionEntry(entry))) as { handler?: unknown };
  } finally {
    process.env = saved;
  }
}

const entryOf = (fn: string) => {
  const spec = ROTA_FUNCTIONS.find((f) => f.name === fn);
  if (!spec) throw new Error(`${fn} has no entry in ROTA_FUNCTIONS`);
  return spec.entry();
};

const stacks: SynthesizedService[] = [
  synthesize('default (token auth)'),
  synthesize("authMode 'iam'", { authMode: 'iam' }),
  synthesize('targets, private hosts and a 5 minute tick', {
    allowedTargetHosts: ['metrics.internal'],
    allowPrivateTargets: true,
    targetQueueArns: ['arn:aws:sqs:us-east-1:123456789012:reports'],
    schedulerRate: Duration.minutes(5),
  }),
];

describe.each(stacks.map((stack) => [stack.name, stack] as const))('on the %s stack', (_, stack) => {
  it('sets only variables the schema knows', () => {
    const known = Object.keys(functionConfigSchema([]).shape);
    for (const [fn, env] of stack.environments) {
      const unknown = Object.keys(env).filter((name) => name.startsWith('ROTA_') && !known.includes(name));
      expect(unknown, fn).toEqual([]);
    }
  });

  it.each([...stack.environments.keys()])(
    '%s starts under the environment the construct gives it',
    async (fn) => {
      const module = await coldStart(entryOf(fn), stack.environments.get(fn) ?? {});
      expect(typeof module.handler).toBe('function');
      // Its calls are recorded under the construct's name for it, which maps them to its role.
      expect((module.handler as { rotaFunction?: string }).rotaFunction).toBe(fn);
    },
  );
});

describe('a missing variable', () => {
  const [stack] = stacks;
  const without = (fn: string, name: string) => {
    const { [name]: _, ...env } = stack?.environments.get(fn) ?? {};
    return env;
  };

  it.each([
    ['scheduler', 'ROTA_RUNS_QUEUE_URL'],
    ['executor', 'ROTA_SECRETS_KMS_KEY_ARN'],
    ['authorizer', 'ROTA_BOOTSTRAP_TOKEN_SECRET_ARN'],
    ['tasks-api', 'ROTA_TABLE_NAME'],
  ])('fails %s at cold start, naming %s', async (fn, name) => {
    await expect(coldStart(entryOf(fn), without(fn, name))).rejects.toThrow(
      new RegExp(`${name}: (required by this function|Invalid input)`),
    );
  });
});
