import { partition } from '@aws-sdk/core/client';
import { InvalidError } from '../errors';

/**
 * Where AWS targets may point: the deployment's own region and partition. The SDK
 * clients that send to them are built for that region, and their endpoints come
 * from configuration, never from the target; a resource elsewhere would fail there
 * anyway, so it is refused with a clear 400 when the task is written.
 */
export interface AwsScope {
  region: string;
  partition: string;
  dnsSuffix: string;
  /**
   * Rota's own queues, as `account/name`. The executor may send to its runs queue, so a
   * task naming it could plant run messages; the policy alone cannot tell the two apart.
   */
  ownQueues: readonly string[];
}

export function awsScope(region: string, ownQueueUrls: readonly string[] = []): AwsScope {
  const { name, dnsSuffix } = partition(region);
  const ownQueues = ownQueueUrls.flatMap((url) => {
    const parts = sqsQueueParts(url);
    return parts ? [`${parts.account}/${parts.name}`] : [];
  });
  return { region, partition: name, dnsSuffix, ownQueues };
}

const ACCOUNT = String.raw`\d{12}`;
const REGION = '[a-z]{2}(?:-[a-z]+)+-\\d';
const PARTITION = 'aws(?:-[a-z]+)*';
/** SQS queue names: 1–80 of letters, digits, `-` and `_`; a FIFO queue's name ends in `.fifo`. */
const QUEUE_NAME = '(?:[A-Za-z0-9_-]{1,75}\\.fifo|[A-Za-z0-9_-]{1,80})';

const SQS_URL = new RegExp(`^https://sqs\\.(${REGION})\\.([a-z0-9.]+)/(${ACCOUNT})/(${QUEUE_NAME})$`);
const SQS_ARN = new RegExp(`^arn:(${PARTITION}):sqs:(${REGION}):(${ACCOUNT}):(${QUEUE_NAME})$`);
const SNS_ARN = new RegExp(
  `^arn:(${PARTITION}):sns:(${REGION}):(${ACCOUNT}):(?:[A-Za-z0-9_-]{1,251}\\.fifo|[A-Za-z0-9_-]{1,256})$`,
);
const LAMBDA_NAME = '[A-Za-z0-9_-]{1,64}';
const LAMBDA_QUALIFIER = '(?::[A-Za-z0-9$_-]{1,128})?';
const LAMBDA = new RegExp(
  `^(?:arn:(${PARTITION}):lambda:(${REGION}):(${ACCOUNT}):function:)?${LAMBDA_NAME}${LAMBDA_QUALIFIER}$`,
);
const BUS_NAME = '[/.\\-_A-Za-z0-9]{1,256}';
const EVENT_BUS = new RegExp(
  `^(?:arn:(${PARTITION}):events:(${REGION}):(${ACCOUNT}):event-bus/)?${BUS_NAME}$`,
);

export const AWS_TARGET_FORMS = {
  queueUrl:
    'must be an SQS queue URL (https://sqs.<region>.amazonaws.com/<12-digit account>/<queue name>, .amazonaws.com.cn in China) or a queue ARN (arn:<partition>:sqs:<region>:<account>:<queue name>)',
  topicArn: 'must be an SNS topic ARN (arn:<partition>:sns:<region>:<account>:<topic name>)',
  functionName:
    'must be a Lambda function name (with an optional :alias or :version) or a function ARN (arn:<partition>:lambda:<region>:<account>:function:<name>)',
  eventBusName:
    'must be an event bus name (letters, digits, and . - _ /) or an event bus ARN (arn:<partition>:events:<region>:<account>:event-bus/<name>)',
} as const;

export const isSqsQueueForm = (value: string) => sqsQueueParts(value) !== undefined;
export const isSnsTopicArn = (value: string) => SNS_ARN.test(value);
export const isLambdaFunction = (value: string) => LAMBDA.test(value);
export const isEventBus = (value: string) => EVENT_BUS.test(value);

/** An SQS queue as the runner sends to it: the URL rebuilt from its parts, for the scope's endpoint. */
export interface SqsQueue {
  region: string;
  account: string;
  name: string;
  url: string;
}

/**
 * The queue a target names, checked against the scope. The URL sent to SQS is rebuilt
 * from region, account and name, so nothing of the task's own spelling (a host, a
 * port, a query) reaches a request.
 */
export function sqsQueue(value: string, scope: AwsScope, field = 'queueUrl'): SqsQueue {
  const parts = sqsQueueParts(value);
  if (!parts) throw new InvalidError(`${field}: ${AWS_TARGET_FORMS.queueUrl}`);
  assertInScope(field, 'queue', parts, scope);
  if (scope.ownQueues.includes(`${parts.account}/${parts.name}`)) {
    throw new InvalidError(`${field}: names Rota's own runs queue, which no task may send to`);
  }
  return {
    region: parts.region,
    account: parts.account,
    name: parts.name,
    url: `https://sqs.${parts.region}.${scope.dnsSuffix}/${parts.account}/${parts.name}`,
  };
}

/** Region, partition, account and name of a queue URL or ARN; undefined when it is neither. */
function sqsQueueParts(
  value: string,
): { region: string; partition: string; account: string; name: string } | undefined {
  const url = SQS_URL.exec(value);
  if (url?.[1] && url[2] && url[3] && url[4]) {
    // A URL shows its partition only in its DNS suffix, which must be its region's own.
    const home = awsScope(url[1]);
    if (url[2] !== home.dnsSuffix) return undefined;
    return { region: url[1], partition: home.partition, account: url[3], name: url[4] };
  }
  const arn = SQS_ARN.exec(value);
  if (arn?.[1] && arn[2] && arn[3] && arn[4]) {
    return { partition: arn[1], region: arn[2], account: arn[3], name: arn[4] };
  }
  return undefined;
}

/** Checks an ARN-or-name field against the scope; names (no ARN) are always in it. */
function checkArnLike(
  form: keyof typeof AWS_TARGET_FORMS,
  field: string,
  what: string,
  match: RegExpExecArray | null,
  scope: AwsScope,
) {
  if (!match) throw new InvalidError(`${field}: ${AWS_TARGET_FORMS[form]}`);
  const [, arnPartition, region] = match;
  if (arnPartition !== undefined && region !== undefined) {
    assertInScope(field, what, { region, partition: arnPartition }, scope);
  }
}

function assertInScope(
  field: string,
  what: string,
  resource: { region: string; partition: string },
  scope: AwsScope,
): void {
  if (resource.region === scope.region && resource.partition === scope.partition) return;
  throw new InvalidError(
    `${field}: the ${what} is in ${resource.region} of partition ${resource.partition}; this deployment reaches only ${scope.region} of partition ${scope.partition}`,
  );
}

/** The AWS part of a target, as the runner and the create-time check see it. */
export type AwsTargetFields =
  | { kind: 'sqs'; queueUrl: string }
  | { kind: 'sns'; topicArn: string }
  | { kind: 'lambda'; functionName: string }
  | { kind: 'eventbridge'; eventBusName: string }
  | { kind: 'http' | 'flux' };

/**
 * Throws a 400 naming the field (after `prefix`, e.g. `target.`) when an AWS target
 * points outside the scope. HTTP targets pass.
 */
export function checkAwsTarget(target: AwsTargetFields, scope: AwsScope, prefix = ''): void {
  switch (target.kind) {
    case 'sqs':
      sqsQueue(target.queueUrl, scope, `${prefix}queueUrl`);
      return;
    case 'sns':
      checkArnLike('topicArn', `${prefix}topicArn`, 'topic', SNS_ARN.exec(target.topicArn), scope);
      return;
    case 'lambda':
      checkArnLike(
        'functionName',
        `${prefix}functionName`,
        'function',
        LAMBDA.exec(target.functionName),
        scope,
      );
      return;
    case 'eventbridge':
      checkArnLike(
        'eventBusName',
        `${prefix}eventBusName`,
        'event bus',
        EVENT_BUS.exec(target.eventBusName),
        scope,
      );
      return;
    case 'http':
    case 'flux':
      return;
  }
}
