import { Duration, type Stack } from 'aws-cdk-lib';
import {
  Alarm,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { Key } from 'aws-cdk-lib/aws-kms';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import type { StateMachine } from 'aws-cdk-lib/aws-stepfunctions';

export interface MonitoringProps {
  readonly key: Key;
  readonly stateMachine: StateMachine;
  readonly writeQueue: Queue;
  readonly deadLetterQueue: Queue;
  readonly writer: LambdaFunction;
  /** An address subscribed to the alarms (`undefined`: none; the operator subscribes later). */
  readonly alarmEmail: string | undefined;
}

/**
 * Adds the alarms (a dead letter, a failed run, a throttled writer), the topic they notify
 * (KMS-encrypted, TLS only), and a dashboard of runs, the write queue and the writer. Added to the
 * stack itself so the logical ids stay those of deployed stacks. Returns the topic.
 */
export function addMonitoring(stack: Stack, props: MonitoringProps): Topic {
  const { stateMachine, writeQueue, deadLetterQueue, writer } = props;
  // Alarms go to a topic the operator subscribes to (context `alarmEmail` subscribes an address).
  const alarmTopic = new Topic(stack, 'Alarms', { masterKey: props.key, enforceSSL: true });
  if (props.alarmEmail) alarmTopic.addSubscription(new EmailSubscription(props.alarmEmail));
  const alarmAction = new SnsAction(alarmTopic);
  const dlqDepth = deadLetterQueue.metricApproximateNumberOfMessagesVisible({
    period: Duration.minutes(5),
  });
  const alarms = [
    new Alarm(stack, 'DeadLettersAlarm', {
      metric: dlqDepth,
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
      alarmDescription: 'Records could not be written to Cliniko after every retry',
    }),
    new Alarm(stack, 'FailedRunsAlarm', {
      metric: stateMachine.metricFailed({ period: Duration.minutes(5) }),
      threshold: 1,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
      alarmDescription: 'A migration run failed',
    }),
    new Alarm(stack, 'WriterThrottlesAlarm', {
      metric: writer.metricThrottles({ period: Duration.minutes(5) }),
      threshold: 5,
      evaluationPeriods: 2,
      treatMissingData: TreatMissingData.NOT_BREACHING,
      alarmDescription: 'The writer Lambda is throttled',
    }),
  ];
  for (const alarm of alarms) alarm.addAlarmAction(alarmAction);

  new Dashboard(stack, 'Dashboard', {
    widgets: [
      [
        new GraphWidget({
          title: 'Runs',
          left: [stateMachine.metricStarted(), stateMachine.metricSucceeded(), stateMachine.metricFailed()],
        }),
        new GraphWidget({
          title: 'Write queue',
          left: [
            writeQueue.metricApproximateNumberOfMessagesVisible(),
            writeQueue.metricApproximateNumberOfMessagesNotVisible(),
          ],
          right: [dlqDepth],
        }),
      ],
      [
        new GraphWidget({
          title: 'Writer',
          left: [writer.metricInvocations(), writer.metricErrors(), writer.metricThrottles()],
          right: [writer.metricDuration()],
        }),
      ],
    ],
  });
  return alarmTopic;
}
