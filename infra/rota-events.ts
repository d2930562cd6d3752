import { Duration, Names } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';
import { EVENT_TYPES, eventTypesFrom, type RotaEventType, RUN_REQUESTED } from '../lib/events/model';
import type { RotaFunction } from './rota-function';

export interface RotaEventsProps {
  /** The table, with its stream (NEW_AND_OLD_IMAGES). */
  readonly table: dynamodb.Table;
  readonly publisher: RotaFunction;
  readonly runRequests: RotaFunction;
  /** @default - a new bus */
  readonly eventBus?: events.IEventBus;
  readonly runRequestSources: readonly string[];
  /** @default - every type */
  readonly eventTypes?: readonly RotaEventType[];
}

/** How many times Lambda retries a failing stream batch (bisecting it) before it skips it. */
export const STREAM_RETRY_ATTEMPTS = 10;

/**
 * Events out and run requests in: the bus, the table's stream feeding the publisher, and
 * the "Run Requested" rule feeding the run-requests function.
 */
export class RotaEvents extends Construct {
  readonly bus: events.IEventBus;
  readonly runRequestRule: events.Rule;

  constructor(scope: Construct, id: string, props: RotaEventsProps) {
    super(scope, id);
    const { bus, busName } = this.ownOrGivenBus(props.eventBus);
    this.bus = bus;
    props.publisher.addEnvironment('ROTA_EVENT_BUS_NAME', busName);
    this.bus.grantPutEventsTo(props.publisher);
    const types = eventTypesOf(props.eventTypes);
    if (types.length < EVENT_TYPES.length)
      props.publisher.addEnvironment('ROTA_EVENT_TYPES', types.join(','));
    // No type wanted: the stream is not read at all, so nothing is invoked or put.
    if (types.length > 0) this.readStream(props.table, props.publisher);

    props.runRequests.addEnvironment('ROTA_RUN_REQUEST_SOURCES', props.runRequestSources.join(','));
    this.runRequestRule = new events.Rule(this, 'RunRequested', {
      description: 'Rota: "Run Requested" events from the listed sources run a task',
      eventBus: props.eventBus ?? events.EventBus.fromEventBusName(this, 'BusByName', busName),
      eventPattern: { source: [...props.runRequestSources], detailType: [RUN_REQUESTED] },
      // A request that cannot run is logged and dropped by the function, so retries only cover failures to invoke it.
      targets: [
        new targets.LambdaFunction(props.runRequests, { retryAttempts: 2, maxEventAge: Duration.hours(1) }),
      ],
    });
    this.runRequestRule.node.addDependency(this.bus);
  }

  /** The table's stream feeding the publisher. */
  private readStream(table: dynamodb.Table, publisher: RotaFunction): void {
    publisher.addEventSource(
      new DynamoEventSource(table, {
        startingPosition: lambda.StartingPosition.TRIM_HORIZON,
        batchSize: 100,
        maxBatchingWindow: Duration.seconds(1),
        bisectBatchOnError: true,
        retryAttempts: STREAM_RETRY_ATTEMPTS,
        // Only items that can make an event: tasks, runs and check statuses.
        filters: [
          lambda.FilterCriteria.filter({
            dynamodb: { Keys: { PK: { S: lambda.FilterRule.beginsWith('TASK#') } } },
          }),
        ],
      }),
    );
    NagSuppressions.addResourceSuppressions(
      publisher.role ?? publisher,
      [
        {
          id: 'AwsSolutions-IAM5',
          reason:
            "The DynamoDB event source needs dynamodb:ListStreams, which supports no resource-level permission (Resource '*'); the stream reads themselves name the table's stream.",
          appliesTo: ['Resource::*'],
        },
      ],
      true,
    );
  }

  /**
   * Its own bus has a name fixed at synth time, and the rule and the environment name it
   * by that name rather than by a Ref: the same template, and one moto's CloudFormation
   * can create (it resolves a bus's Ref to an object, not its name).
   */
  private ownOrGivenBus(given: events.IEventBus | undefined) {
    if (given) return { bus: given, busName: given.eventBusName };
    const busName = Names.uniqueResourceName(this, { maxLength: 200, separator: '-' });
    const bus = new events.EventBus(this, 'Bus', {
      eventBusName: busName,
      description: 'Rota task and run events',
    });
    return { bus, busName };
  }
}

/** The types to put on the bus, checked here too: a JavaScript app gets no type check. */
export function eventTypesOf(given: readonly string[] | undefined): readonly RotaEventType[] {
  if (given === undefined) return EVENT_TYPES;
  const parsed = eventTypesFrom(given);
  if ('error' in parsed) throw new Error(`eventTypes: ${parsed.error}`);
  return parsed.types;
}
