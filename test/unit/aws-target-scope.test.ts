import { createHash } from 'node:crypto';
import { SendMessageCommand, SQSClient, type SQSClientConfig } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { InvalidError } from '../../lib/errors';
import { createSqsClient } from '../../lib/queue/sqs-client';
import { awsScope, checkAwsTarget } from '../../lib/runners/aws-resources';
import { createAwsTargetRunners } from '../../lib/runners/aws-targets';
import type { TargetRunContext } from '../../lib/runners/http-target';
import { type Target, targetSchema } from '../../lib/runners/target';

const ACCOUNT = '123456789012';
const east = awsScope('us-east-1');

const parse = (target: unknown) => targetSchema.safeParse(target);
const accepted = (target: unknown, scope = east) => {
  const parsed = parse(target);
  if (!parsed.success) return false;
  try {
    checkAwsTarget(parsed.data, scope);
    return true;
  } catch (error) {
    if (error instanceof InvalidError) return false;
    throw error;
  }
};
const problem = (target: unknown, scope = east): string => {
  const parsed = parse(target);
  if (!parsed.success) return parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
  try {
    checkAwsTarget(parsed.data, scope);
  } catch (error) {
    return (error as Error).message;
  }
  return '';
};

describe('sqs targets name a real queue of the deployment region', () => {
  const sqs = (queueUrl: string) => ({ kind: 'sqs', queueUrl });

  it.each([
    `https://sqs.us-east-1.amazonaws.com/${ACCOUNT}/orders`,
    `https://sqs.us-east-1.amazonaws.com/${ACCOUNT}/orders.fifo`,
    `https://sqs.us-east-1.amazonaws.com/${ACCOUNT}/A_b-9`,
    `arn:aws:sqs:us-east-1:${ACCOUNT}:orders`,
    `arn:aws:sqs:us-east-1:${ACCOUNT}:orders.fifo`,
  ])('accepts %s', (queueUrl) => {
    expect(problem(sqs(queueUrl))).toBe('');
  });

  it.each([
    ['an attacker host', `https://attacker.example/${ACCOUNT}/orders`],
    ['a look-alike host', `https://sqs.us-east-1.amazonaws.com.attacker.example/${ACCOUNT}/orders`],
    ['another partition’s DNS suffix', `https://sqs.us-east-1.amazonaws.com.cn/${ACCOUNT}/orders`],
    ['user info before the host', `https://sqs.us-east-1.amazonaws.com@attacker.example/${ACCOUNT}/orders`],
    ['plain http', `http://sqs.us-east-1.amazonaws.com/${ACCOUNT}/orders`],
    ['a port', `https://sqs.us-east-1.amazonaws.com:8443/${ACCOUNT}/orders`],
    ['a query', `https://sqs.us-east-1.amazonaws.com/${ACCOUNT}/orders?x=1`],
    ['a fragment', `https://sqs.us-east-1.amazonaws.com/${ACCOUNT}/orders#x`],
    ['extra path', `https://sqs.us-east-1.amazonaws.com/${ACCOUNT}/orders/more`],
    ['a short account', 'https://sqs.us-east-1.amazonaws.com/12345/orders'],
    ['a bad queue name', `https://sqs.us-east-1.amazonaws.com/${ACCOUNT}/or%2Fders`],
    ['a name too long', `https://sqs.us-east-1.amazonaws.com/${ACCOUNT}/${'q'.repeat(81)}`],
    ['an emulator URL', `http://sqs.us-east-1.localhost:4566/000000000000/orders`],
    ['a loopback URL', `http://127.0.0.1:4566/000000000000/orders`],
    ['the legacy host', `https://queue.amazonaws.com/${ACCOUNT}/orders`],
    ['another service ARN', `arn:aws:sns:us-east-1:${ACCOUNT}:orders`],
  ])('refuses %s', (_what, queueUrl) => {
    const message = problem(sqs(queueUrl));
    expect(message).toMatch(/queueUrl: must be an SQS queue URL .* or a queue ARN/);
  });

  it.each([
    ['another region', `https://sqs.eu-west-1.amazonaws.com/${ACCOUNT}/orders`],
    ['another region (ARN)', `arn:aws:sqs:eu-west-1:${ACCOUNT}:orders`],
    ['another partition', `arn:aws-cn:sqs:us-east-1:${ACCOUNT}:orders`],
  ])('refuses %s than the deployment', (_what, queueUrl) => {
    expect(problem(sqs(queueUrl))).toMatch(
      /queueUrl: .*this deployment reaches only us-east-1 of partition aws/,
    );
  });

  it('takes the China and GovCloud forms in their own partitions', () => {
    const china = awsScope('cn-north-1');
    const gov = awsScope('us-gov-west-1');
    expect(china).toMatchObject({ partition: 'aws-cn', dnsSuffix: 'amazonaws.com.cn' });
    expect(accepted(sqs(`https://sqs.cn-north-1.amazonaws.com.cn/${ACCOUNT}/q`), china)).toBe(true);
    expect(accepted(sqs(`arn:aws-cn:sqs:cn-north-1:${ACCOUNT}:q`), china)).toBe(true);
    expect(accepted(sqs(`https://sqs.cn-north-1.amazonaws.com/${ACCOUNT}/q`), china)).toBe(false);
    expect(accepted(sqs(`https://sqs.us-gov-west-1.amazonaws.com/${ACCOUNT}/q`), gov)).toBe(true);
    expect(accepted(sqs(`arn:aws-us-gov:sqs:us-gov-west-1:${ACCOUNT}:q`), gov)).toBe(true);
    expect(accepted(sqs(`arn:aws:sqs:us-gov-west-1:${ACCOUNT}:q`), gov)).toBe(false);
  });
});

describe('lambda, sns and eventbridge targets name resources of the deployment region', () => {
  it.each([
    [{ kind: 'lambda', functionName: 'report-builder' }, true],
    [{ kind: 'lambda', functionName: 'report-builder:live' }, true],
    [{ kind: 'lambda', functionName: 'report-builder:$LATEST' }, true],
    [{ kind: 'lambda', functionName: `arn:aws:lambda:us-east-1:${ACCOUNT}:function:report-builder` }, true],
    [{ kind: 'lambda', functionName: `arn:aws:lambda:us-east-1:${ACCOUNT}:function:report-builder:7` }, true],
    [{ kind: 'lambda', functionName: `arn:aws:lambda:eu-west-1:${ACCOUNT}:function:report-builder` }, false],
    [
      { kind: 'lambda', functionName: `arn:aws-cn:lambda:us-east-1:${ACCOUNT}:function:report-builder` },
      false,
    ],
    [{ kind: 'lambda', functionName: 'https://attacker.example/fn' }, false],
    [{ kind: 'lambda', functionName: 'x'.repeat(65) }, false],
    [{ kind: 'sns', topicArn: `arn:aws:sns:us-east-1:${ACCOUNT}:alerts` }, true],
    [{ kind: 'sns', topicArn: `arn:aws:sns:us-east-1:${ACCOUNT}:alerts.fifo` }, true],
    [{ kind: 'sns', topicArn: `arn:aws:sns:eu-west-1:${ACCOUNT}:alerts` }, false],
    [{ kind: 'sns', topicArn: `arn:aws-us-gov:sns:us-east-1:${ACCOUNT}:alerts` }, false],
    [{ kind: 'sns', topicArn: 'https://attacker.example/topic' }, false],
    [{ kind: 'eventbridge', source: 's', detailType: 'd' }, true],
    [{ kind: 'eventbridge', eventBusName: 'orders', source: 's', detailType: 'd' }, true],
    [
      { kind: 'eventbridge', eventBusName: 'aws.partner/acme.com/123/orders', source: 's', detailType: 'd' },
      true,
    ],
    [
      {
        kind: 'eventbridge',
        eventBusName: `arn:aws:events:us-east-1:${ACCOUNT}:event-bus/orders`,
        source: 's',
        detailType: 'd',
      },
      true,
    ],
    [
      {
        kind: 'eventbridge',
        eventBusName: `arn:aws:events:eu-west-1:${ACCOUNT}:event-bus/orders`,
        source: 's',
        detailType: 'd',
      },
      false,
    ],
    [
      { kind: 'eventbridge', eventBusName: 'https://attacker.example/bus', source: 's', detailType: 'd' },
      false,
    ],
    [{ kind: 'eventbridge', eventBusName: 'orders bus', source: 's', detailType: 'd' }, false],
  ])('%j: accepted %s', (target, ok) => {
    expect(accepted(target)).toBe(ok);
  });

  it('says what is valid and which region the deployment allows', () => {
    expect(problem({ kind: 'lambda', functionName: `arn:aws:lambda:eu-west-1:${ACCOUNT}:function:f` })).toBe(
      'functionName: the function is in eu-west-1 of partition aws; this deployment reaches only us-east-1 of partition aws',
    );
    expect(problem({ kind: 'sns', topicArn: 'nope' })).toMatch(/topicArn: must be an SNS topic ARN/);
  });
});

/** What the SDK puts on the wire, as its request handler receives it. */
interface WireRequest {
  protocol: string;
  hostname: string;
  port?: number;
  headers: Record<string, string>;
  body: unknown;
}
type RequestHandler = NonNullable<SQSClientConfig['requestHandler']>;

/** A request handler that records every request the SDK would send, and answers SendMessage. */
function recordingHandler(): { handler: RequestHandler; requests: WireRequest[] } {
  const requests: WireRequest[] = [];
  const handler = {
    async handle(request: WireRequest) {
      requests.push(request);
      const input = JSON.parse(String(request.body)) as { MessageBody: string };
      const md5 = createHash('md5').update(input.MessageBody).digest('hex');
      // The SDK takes any object with a numeric status and headers as the HTTP response.
      return {
        response: {
          statusCode: 200,
          headers: { 'content-type': 'application/x-amz-json-1.0' },
          body: Buffer.from(JSON.stringify({ MessageId: 'm-1', MD5OfMessageBody: md5 })),
        },
      };
    },
    updateHttpClientConfig() {},
    httpHandlerConfigs: () => ({}),
  } as unknown as RequestHandler;
  return { handler, requests };
}

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret', sessionToken: 'session-token' };
const run = { taskID: 't1', runID: 'r1', scheduledFor: '2026-01-01T00:00:00Z', attempt: 1 };
const ctx = (): TargetRunContext => ({
  run,
  signal: new AbortController().signal,
  timeoutMs: 5000,
  log: () => {},
});

describe('the SQS runner never lets a task choose the endpoint', () => {
  const clientsWith = (sqs: SQSClient) =>
    ({ sqs }) as unknown as Parameters<typeof createAwsTargetRunners>[0];

  it('sends a signed SendMessage only to the configured SQS endpoint, with the canonical queue URL', async () => {
    // Prepare: the client the runtime builds on AWS (no emulator endpoint).
    const { handler, requests } = recordingHandler();
    const client = createSqsClient({ AWS_REGION: 'us-east-1' }, { requestHandler: handler, credentials });
    const runners = createAwsTargetRunners(clientsWith(client), { region: 'us-east-1' });

    // Act
    await runners.sqs({ kind: 'sqs', queueUrl: `arn:aws:sqs:us-east-1:${ACCOUNT}:orders` }, ctx());

    // Assess
    expect(requests).toHaveLength(1);
    const [request] = requests;
    expect(request?.protocol).toBe('https:');
    expect(request?.hostname).toBe('sqs.us-east-1.amazonaws.com');
    expect(request?.headers['x-amz-security-token']).toBe('session-token');
    expect(JSON.parse(String(request?.body)).QueueUrl).toBe(
      `https://sqs.us-east-1.amazonaws.com/${ACCOUNT}/orders`,
    );
  });

  it('refuses a queue URL on another host that was stored earlier, before any request', async () => {
    // Prepare
    const { handler, requests } = recordingHandler();
    const client = createSqsClient({ AWS_REGION: 'us-east-1' }, { requestHandler: handler, credentials });
    const runners = createAwsTargetRunners(clientsWith(client), { region: 'us-east-1' });
    const stored = { kind: 'sqs', queueUrl: `https://attacker.example/${ACCOUNT}/orders` } as Extract<
      Target,
      { kind: 'sqs' }
    >;

    // Act
    const error = await runners.sqs(stored, ctx()).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(InvalidError);
    expect((error as Error).message).toMatch(/queueUrl: must be an SQS queue URL/);
    expect(requests).toHaveLength(0);
  });

  it("refuses Rota's own runs queue, by URL or ARN, at create time and before any request", async () => {
    // Prepare: the executor may send to its runs queue, so only this check keeps tasks off it.
    const runsQueue = `https://sqs.us-east-1.amazonaws.com/${ACCOUNT}/Rota-RunsQueue-AB12`;
    const scope = awsScope('us-east-1', [runsQueue]);
    const { handler, requests } = recordingHandler();
    const client = createSqsClient({ AWS_REGION: 'us-east-1' }, { requestHandler: handler, credentials });
    const runners = createAwsTargetRunners(clientsWith(client), {
      region: 'us-east-1',
      ownQueueUrls: [runsQueue],
    });
    const byArn = `arn:aws:sqs:us-east-1:${ACCOUNT}:Rota-RunsQueue-AB12`;

    // Act
    const problems = [runsQueue, byArn].map((queueUrl) => problem({ kind: 'sqs', queueUrl }, scope));
    const atRun = await runners.sqs({ kind: 'sqs', queueUrl: byArn }, ctx()).catch((e: unknown) => e);

    // Assess
    for (const message of problems) {
      expect(message).toBe("queueUrl: names Rota's own runs queue, which no task may send to");
    }
    expect(atRun).toBeInstanceOf(InvalidError);
    expect(requests).toHaveLength(0);
    // Control: another queue of the same account still passes.
    expect(accepted({ kind: 'sqs', queueUrl: `arn:aws:sqs:us-east-1:${ACCOUNT}:orders` }, scope)).toBe(true);
  });

  it('keeps the configured endpoint even when a queue URL names another host', async () => {
    // Prepare
    const prod = recordingHandler();
    const local = recordingHandler();
    const sdkDefault = recordingHandler();
    const onAws = createSqsClient({ AWS_REGION: 'us-east-1' }, { requestHandler: prod.handler, credentials });
    const onEmulator = createSqsClient(
      { AWS_REGION: 'us-east-1', ROTA_SQS_ENDPOINT: 'http://127.0.0.1:4566' },
      { requestHandler: local.handler, credentials },
    );
    // What the runtime built before: the SDK's default follows the queue URL's host.
    const followsQueueUrl = new SQSClient({
      region: 'us-east-1',
      credentials,
      requestHandler: sdkDefault.handler,
    });
    const command = () =>
      new SendMessageCommand({ QueueUrl: `https://attacker.example/${ACCOUNT}/orders`, MessageBody: 'x' });

    // Act
    await onAws.send(command());
    await onEmulator.send(command());
    await followsQueueUrl.send(command());

    // Assess
    expect(prod.requests[0]?.hostname).toBe('sqs.us-east-1.amazonaws.com');
    expect(`${local.requests[0]?.hostname}:${local.requests[0]?.port}`).toBe('127.0.0.1:4566');
    expect(sdkDefault.requests[0]?.hostname).toBe('attacker.example');
  });
});
