import { AsyncLocalStorage } from 'node:async_hooks';
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ATTR, tableDefinition } from '../store/keys';

/**
 * Records every AWS call a Rota function makes, so the IAM contract suite
 * (test/contract) can check each one against that function's synthesized role.
 *
 * Nothing is recorded unless `ROTA_AWS_CALL_LOG` names a directory (vitest sets it for
 * the integration and e2e projects); on Lambda it is unset, and the middleware is never
 * added. Each process appends one JSON line per distinct call to `<dir>/<pid>.jsonl`.
 *
 * A call is attributed to the function whose handler is running (`rotaHandler`, an
 * AsyncLocalStorage scope set by every functions/*.ts entry), and its resource to the
 * role the composition root declared for it (`declareResource`), which the contract
 * suite maps to the synthesized template's resources.
 */

/** What a resource is to Rota; the contract suite maps each to a resource of the template. */
export type ResourceRole =
  | 'table'
  | 'runsQueue'
  | 'deadLetterQueue'
  /** The scheduler's fan-out queue (planning jobs). */
  | 'planningQueue'
  | 'secretsKey'
  | 'operatorSecret'
  /** Rota's own event bus (events out). */
  | 'eventBus'
  /** A resource a task's target names, listed by the operator (`targetQueueArns`, …). */
  | 'target';

/** One recorded AWS call (or, with `invoked`, the first invocation of a function in a process). */
export interface RecordedCall {
  /** The function's name, as the construct's function specs name it (`executor`). */
  fn: string;
  /** Set on the line that says the function's handler ran. */
  invoked?: true;
  service?: string;
  operation?: string;
  /** The IAM action the call needs (`sqs:SendMessage` for `SendMessageBatch`). */
  action?: string;
  role?: ResourceRole | undefined;
  /** The resource as the call named it: table name, queue name, key or secret ARN, … */
  resource?: string;
  index?: string;
  /** The condition keys IAM evaluates for this call, with their values. */
  context?: Record<string, string[]>;
  /** `event-source`: made by the poller that stands in for Lambda's SQS event source (the function's role). */
  via?: 'event-source';
}

const scope = new AsyncLocalStorage<{ fn: string; via?: 'event-source' }>();

/**
 * Every Lambda entry point's handler goes through this: the name is the function's
 * name in the construct (`infra/task-service.ts`), so recorded calls map to its role.
 */
export function rotaHandler<Args extends unknown[], Result>(
  name: string,
  handler: (...args: Args) => Promise<Result>,
): ((...args: Args) => Promise<Result>) & { readonly rotaFunction: string } {
  const wrapped = (...args: Args) =>
    scope.run({ fn: name }, () => {
      noteInvocation(name);
      return handler(...args);
    });
  // The infra tests read it back to check it is the construct's name for this entry.
  return Object.assign(wrapped, { rotaFunction: name });
}

/**
 * Runs `work` as function `name` would: for test harnesses that drive lib/ directly,
 * and for local mode's poller, which stands in for the event source (`via`).
 */
export function asFunction<T>(name: string, work: () => T, via?: 'event-source'): T {
  if (via) return scope.run({ fn: name, via }, work);
  noteInvocation(name);
  return scope.run({ fn: name }, work);
}

const roles = new Map<string, ResourceRole>();

/** Tells the recorder what a resource is; the composition root calls it for what it wires. */
export function declareResource(role: ResourceRole, id: string): void {
  if (sinkDir()) roles.set(resourceKey(id), role);
}

interface SdkClient {
  config: { serviceId?: string };
  middlewareStack: {
    add(
      middleware: (
        next: (args: { input: unknown }) => Promise<unknown>,
        context: { commandName?: string },
      ) => (args: { input: unknown }) => Promise<unknown>,
      options: { step: 'initialize'; name: string },
    ): void;
  };
}

/** The one place SDK clients pass through: adds the recording middleware when a sink is set. */
export function recorded<C>(client: C): C {
  if (!sinkDir()) return client;
  const sdk = client as unknown as SdkClient;
  const service = IAM_PREFIX[sdk.config.serviceId ?? ''];
  if (!service) return client;
  sdk.middlewareStack.add(
    (next, context) => async (args) => {
      const current = scope.getStore();
      const operation = (context.commandName ?? '').replace(/Command$/, '');
      if (current) {
        for (const call of describeCall(service, operation, args.input as Input)) {
          write({ fn: current.fn, ...call, ...(current.via ? { via: current.via } : {}) });
        }
      }
      return next(args);
    },
    { step: 'initialize', name: 'rotaAwsCallRecorder' },
  );
  return client;
}

/** The SDK's service ids, as IAM prefixes its actions. */
const IAM_PREFIX: Record<string, string> = {
  DynamoDB: 'dynamodb',
  SQS: 'sqs',
  KMS: 'kms',
  'Secrets Manager': 'secretsmanager',
  SNS: 'sns',
  EventBridge: 'events',
  Lambda: 'lambda',
};

/** API operations authorized by another action's name; every other operation is its own action. */
const ACTION_OF: Record<string, string> = {
  'sqs:SendMessageBatch': 'sqs:SendMessage',
  'sqs:DeleteMessageBatch': 'sqs:DeleteMessage',
  'sqs:ChangeMessageVisibilityBatch': 'sqs:ChangeMessageVisibility',
  'sns:PublishBatch': 'sns:Publish',
  'lambda:Invoke': 'lambda:InvokeFunction',
};

type Input = Record<string, unknown>;
type Described = Omit<RecordedCall, 'fn' | 'via'>;

function describeCall(service: string, operation: string, input: Input): Described[] {
  const action = ACTION_OF[`${service}:${operation}`] ?? `${service}:${operation}`;
  const base = { service, operation, action };
  const on = (resource: string, extra: Partial<Described> = {}): Described => ({
    ...base,
    resource,
    role: roles.get(resourceKey(resource)),
    ...extra,
  });
  switch (service) {
    case 'dynamodb':
      return describeDynamoCall(input).map(({ table, index, leadingKeys }) =>
        on(table, {
          ...(index ? { index } : {}),
          ...(leadingKeys.length ? { context: { 'dynamodb:LeadingKeys': leadingKeys } } : {}),
        }),
      );
    case 'sqs':
      return [on(queueName(String(input.QueueUrl ?? input.QueueName ?? '')))];
    case 'kms': {
      const context = Object.entries((input.EncryptionContext ?? {}) as Record<string, string>);
      return [
        on(String(input.KeyId ?? ''), {
          ...(context.length
            ? {
                context: {
                  ...Object.fromEntries(context.map(([k, v]) => [`kms:EncryptionContext:${k}`, [v]])),
                  'kms:EncryptionContextKeys': context.map(([k]) => k),
                },
              }
            : {}),
        }),
      ];
    }
    case 'secretsmanager':
      return [on(String(input.SecretId ?? ''))];
    case 'sns':
      return [on(String(input.TopicArn ?? ''))];
    case 'events': {
      const buses = ((input.Entries ?? []) as { EventBusName?: string }[]).map(
        (e) => e.EventBusName ?? 'default',
      );
      return [...new Set(buses)].map((bus) => on(bus));
    }
    case 'lambda':
      return [on(String(input.FunctionName ?? ''))];
    default:
      return [base];
  }
}

interface DynamoTarget {
  table: string;
  index?: string | undefined;
  leadingKeys: string[];
}

type Item = Record<string, { S?: string } | undefined>;

/** The partition key attribute of the table and of each index, from the one key declaration. */
const PARTITION_KEY: Record<string, string> = Object.fromEntries([
  ['', ATTR.pk],
  ...(tableDefinition('x').GlobalSecondaryIndexes ?? []).map((index) => [
    index.IndexName ?? '',
    index.KeySchema?.find((k) => k.KeyType === 'HASH')?.AttributeName ?? '',
  ]),
]);

/** Which table (and index) a call touches, and the partition keys IAM sees as `dynamodb:LeadingKeys`. */
function describeDynamoCall(input: Input): DynamoTarget[] {
  const pkOf = (item: Item | undefined) => item?.[ATTR.pk]?.S;
  const defined = (values: (string | undefined)[]) => [...new Set(values.filter((v) => v !== undefined))];
  if (input.RequestItems) {
    return Object.entries(input.RequestItems as Record<string, unknown>).map(([table, requests]) => ({
      table,
      leadingKeys: defined(
        Array.isArray(requests)
          ? (requests as { PutRequest?: { Item?: Item }; DeleteRequest?: { Key?: Item } }[]).map((r) =>
              pkOf(r.PutRequest?.Item ?? r.DeleteRequest?.Key),
            )
          : ((requests as { Keys?: Item[] }).Keys ?? []).map(pkOf),
      ),
    }));
  }
  const table = String(input.TableName ?? '');
  const index = typeof input.IndexName === 'string' ? input.IndexName : undefined;
  if (typeof input.KeyConditionExpression === 'string') {
    const key = PARTITION_KEY[index ?? ''] ?? ATTR.pk;
    return [{ table, index, leadingKeys: defined([queriedPartition(input, key)]) }];
  }
  return [{ table, index, leadingKeys: defined([pkOf((input.Key ?? input.Item) as Item | undefined)]) }];
}

/** The value a Query's key condition requires of `attribute` (`#pk = :pk`, with names and values resolved). */
function queriedPartition(input: Input, attribute: string): string | undefined {
  const names = (input.ExpressionAttributeNames ?? {}) as Record<string, string>;
  const values = (input.ExpressionAttributeValues ?? {}) as Item;
  for (const clause of String(input.KeyConditionExpression).split(/\s+AND\s+/i)) {
    const match = /^\(?\s*([#\w]+)\s*=\s*(:\w+)\s*\)?$/.exec(clause.trim());
    if (match && (names[match[1] ?? ''] ?? match[1]) === attribute) return values[match[2] ?? '']?.S;
  }
  return undefined;
}

/** Queue URLs differ per emulator host; the queue's name is what identifies it. */
function queueName(urlOrName: string): string {
  return urlOrName.split('/').pop() ?? urlOrName;
}

function resourceKey(id: string): string {
  return id.includes('/') && id.startsWith('http') ? queueName(id) : id;
}

function sinkDir(): string | undefined {
  return process.env.ROTA_AWS_CALL_LOG || undefined;
}

const written = new Set<string>();
const invoked = new Set<string>();

function noteInvocation(fn: string): void {
  if (!sinkDir() || invoked.has(fn)) return;
  invoked.add(fn);
  write({ fn, invoked: true });
}

function write(call: RecordedCall): void {
  const dir = sinkDir();
  if (!dir) return;
  const line = JSON.stringify(call);
  if (written.has(line)) return;
  written.add(line);
  mkdirSync(dir, { recursive: true });
  appendFileSync(join(dir, `${process.pid}.jsonl`), `${line}\n`);
}
