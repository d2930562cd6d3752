import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { TaskService, type TaskServiceProps } from '../../infra/task-service';
import { synthesize } from '../support/template';

/**
 * The scheduler's fan-out as the construct deploys it (docs/decisions/0014, "Deployed
 * fan-out"): the props that shape it reach the functions that read them, and the
 * coordinator's grants follow whether it derives the number of workers itself.
 */

const unbundled = () => new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'FanOut');
const actionsOf = (stack: ReturnType<typeof synthesize>, fn: string) =>
  (stack.roles.get(fn)?.policies ?? [])
    .flatMap((p) => p.Statement)
    .flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));

describe('props → environment', () => {
  const tuned = synthesize('tuned', {
    dueShards: 4,
    dueShardsRead: 16,
    schedulerLookahead: Duration.minutes(5),
    planningWorkers: 6,
  });

  it('maps dueShards, dueShardsRead and schedulerLookahead to every function that plans or reconciles', () => {
    for (const fn of ['scheduler', 'planning-worker', 'reconciler']) {
      expect(tuned.environments.get(fn), fn).toMatchObject({
        ROTA_DUE_SHARDS: '4',
        ROTA_DUE_SHARDS_READ: '16',
        ROTA_SCHEDULER_LOOKAHEAD_SECONDS: '300',
      });
    }
  });

  it('gives the coordinator the planning queue and the fixed worker count, and then no DescribeTable', () => {
    const env = tuned.environments.get('scheduler') ?? {};
    expect(env.ROTA_PLANNING_WORKERS).toBe('6');
    expect(env.ROTA_PLANNING_QUEUE_URL).toMatch(/^https:\/\/sqs\..*PlanningQueue/);
    expect(tuned.environments.get('planning-worker')?.ROTA_PLANNING_QUEUE_URL).toBeUndefined();
    expect(actionsOf(tuned, 'scheduler')).not.toContain('dynamodb:DescribeTable');
  });

  it('derives the worker count by default: DescribeTable on the table, and on nothing else', () => {
    const plain = synthesize('default');
    expect(plain.environments.get('scheduler')?.ROTA_PLANNING_WORKERS).toBeUndefined();
    const describe = (plain.roles.get('scheduler')?.policies ?? [])
      .flatMap((p) => p.Statement)
      .filter((s) => ([] as string[]).concat(s.Action).includes('dynamodb:DescribeTable'));
    expect(describe).toHaveLength(1);
    expect(describe[0]?.Action).toBe('dynamodb:DescribeTable');
    expect(describe[0]?.Resource).toBe(plain.arnOf('table'));
    for (const fn of plain.roles.keys()) {
      if (fn !== 'scheduler') expect(actionsOf(plain, fn), fn).not.toContain('dynamodb:DescribeTable');
    }
  });

  it('lets as many workers run at once as there are shards to read', () => {
    const stack = unbundled();
    new TaskService(stack, 'Rota', { dueShards: 4, dueShardsRead: 16 });
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 1,
      ScalingConfig: { MaximumConcurrency: 16 },
    });
  });
});

describe('planning queue grants', () => {
  const stack = synthesize('default');
  const resourcesFor = (fn: string, action: string) =>
    (stack.roles.get(fn)?.policies ?? [])
      .flatMap((p) => p.Statement)
      .filter((s) => ([] as string[]).concat(s.Action).includes(action))
      .flatMap((s) => ([] as string[]).concat(s.Resource));

  it('only the coordinator sends to it (SendMessage, nothing more), only the worker receives from it', () => {
    const planning = stack.arnOf('planningQueue');
    for (const fn of stack.roles.keys()) {
      expect(resourcesFor(fn, 'sqs:SendMessage').includes(planning), fn).toBe(fn === 'scheduler');
      expect(resourcesFor(fn, 'sqs:ReceiveMessage').includes(planning), fn).toBe(fn === 'planning-worker');
      expect(resourcesFor(fn, 'sqs:DeleteMessage').includes(planning), fn).toBe(fn === 'planning-worker');
    }
    const onPlanning = (stack.roles.get('scheduler')?.policies ?? [])
      .flatMap((p) => p.Statement)
      .filter((s) => ([] as string[]).concat(s.Resource).includes(planning))
      .flatMap((s) => ([] as string[]).concat(s.Action));
    expect(onPlanning).toEqual(['sqs:SendMessage']);
  });
});

describe('props validation', () => {
  const build = (props: TaskServiceProps) => () => new TaskService(unbundled(), 'Rota', props);

  it.each([
    [
      'schedulerLookahead 30 s',
      { schedulerLookahead: Duration.seconds(30) },
      /schedulerLookahead \(seconds\)/,
    ],
    ['schedulerLookahead 16 min', { schedulerLookahead: Duration.minutes(16) }, /from 60 to 900/],
    [
      'schedulerLookahead below the rate',
      { schedulerRate: Duration.minutes(5), schedulerLookahead: Duration.minutes(2) },
      /schedulerLookahead must not be shorter than schedulerRate \(300 s\), got 120 s/,
    ],
    ['dueShardsRead 0', { dueShardsRead: 0 }, /dueShardsRead must be an integer from 1 to 256/],
    ['planningWorkers 257', { planningWorkers: 257 }, /planningWorkers must be an integer from 1 to 256/],
  ] satisfies [string, TaskServiceProps, RegExp][])('rejects %s at synth time', (_, props, message) => {
    expect(build(props)).toThrow(message);
  });
});
