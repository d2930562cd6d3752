import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { RotaFunction } from './rota-function';

export interface RotaAlarmsProps {
  readonly runsQueue: sqs.IQueue;
  readonly deadLetterQueue: sqs.IQueue;
  readonly executor: RotaFunction;
  readonly scheduler: RotaFunction;
  readonly reconciler: RotaFunction;
  readonly planningDeadLetterQueue: sqs.IQueue;
  readonly planningWorker: RotaFunction;
  /** Topic every alarm notifies. @default - alarms have no actions */
  readonly topic?: sns.ITopic;
}

/** What an operator must hear about: dead letters, failing functions, a queue or schedule falling behind. */
export class RotaAlarms extends Construct {
  readonly alarms: readonly cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: RotaAlarmsProps) {
    super(scope, id);
    const alarms = [
      this.above(
        'DeadLetterQueueDepthAlarm',
        'Rota: run messages are waiting in the dead-letter queue (the dead-letter function is failing or behind)',
        props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
          period: Duration.minutes(1),
          statistic: cloudwatch.Stats.MAXIMUM,
        }),
        0,
      ),
      this.errors('ExecutorErrorsAlarm', 'Rota: executor invocations failed', props.executor),
      this.errors('SchedulerErrorsAlarm', 'Rota: scheduler ticks failed', props.scheduler),
      this.errors(
        'ReconcilerErrorsAlarm',
        'Rota: reconciler passes failed (stalled open runs are not being re-sent)',
        props.reconciler,
      ),
      this.above(
        'PlanningDeadLetterQueueDepthAlarm',
        'Rota: planning jobs were dead-lettered (a range of due shards failed three times; the next ticks retry it)',
        props.planningDeadLetterQueue.metricApproximateNumberOfMessagesVisible({
          period: Duration.minutes(1),
          statistic: cloudwatch.Stats.MAXIMUM,
        }),
        0,
      ),
      this.errors('PlanningWorkerErrorsAlarm', 'Rota: planning workers failed', props.planningWorker),
      this.above(
        'RunsQueueAgeAlarm',
        'Rota: the oldest run message is over 5 minutes old (executors are not keeping up)',
        props.runsQueue.metricApproximateAgeOfOldestMessage({
          period: Duration.minutes(1),
          statistic: cloudwatch.Stats.MAXIMUM,
        }),
        Duration.minutes(5).toSeconds(),
      ),
      this.above(
        'ScheduleLagAlarm',
        'Rota: p99 schedule lag (run start minus due time) is over 60 seconds',
        new cloudwatch.Metric({
          namespace: 'Rota',
          metricName: 'ScheduleLag',
          dimensionsMap: { service: props.executor.serviceName },
          statistic: cloudwatch.Stats.p(99),
          period: Duration.minutes(5),
        }),
        Duration.seconds(60).toMilliseconds(),
      ),
    ];
    if (props.topic) {
      const action = new SnsAction(props.topic);
      for (const alarm of alarms) alarm.addAlarmAction(action);
    }
    this.alarms = alarms;
  }

  private errors(id: string, description: string, fn: RotaFunction): cloudwatch.Alarm {
    return this.above(
      id,
      description,
      fn.metricErrors({ period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM }),
      0,
    );
  }

  private above(
    id: string,
    description: string,
    metric: cloudwatch.IMetric,
    threshold: number,
  ): cloudwatch.Alarm {
    return new cloudwatch.Alarm(this, id, {
      alarmDescription: description,
      metric,
      threshold,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      // No data means no messages, no errors, no runs: all healthy.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  }
}
