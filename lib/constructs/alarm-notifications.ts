import { Aspects, AspectPriority, type IAspect } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct, type IConstruct } from 'constructs';
import type { AlarmNotifications as AlarmTarget } from '../stack-config';
import { acknowledge } from '../nag';

/** Properties of {@link AlarmNotifications}. */
export interface AlarmNotificationsProps {
  /** An email to subscribe to a new topic, or an existing topic. */
  readonly target: Exclude<AlarmTarget, { kind: 'none' }>;
}

/** Adds the action to every alarm it visits (alarm and back to OK), once per alarm. */
class NotifyEveryAlarm implements IAspect {
  private readonly done = new WeakSet<IConstruct>();

  public constructor(private readonly action: cloudwatch.IAlarmAction) {}

  public visit(node: IConstruct): void {
    if (!(node instanceof cloudwatch.AlarmBase) || this.done.has(node)) return;
    this.done.add(node);
    node.addAlarmAction(this.action);
    // The all-clear too: whoever was woken learns that it is over without opening the console.
    node.addOkAction(this.action);
  }
}

/**
 * Where the stack's alarms go: an SNS topic, either created here with an email subscription
 * (the address confirms it from the first mail) or an existing one by ARN. An aspect makes it
 * the action of every CloudWatch alarm in `scope`, including alarms added after this construct.
 */
export class AlarmNotifications extends Construct {
  public readonly topic: sns.ITopic;

  public constructor(scope: Construct, id: string, props: AlarmNotificationsProps) {
    super(scope, id);
    if (props.target.kind === 'topic') {
      this.topic = sns.Topic.fromTopicArn(this, 'Topic', props.target.topicArn);
    } else {
      const topic = new sns.Topic(this, 'Topic', {
        displayName: 'Taskwire alarms',
        // AwsSolutions-SNS3: publishers must use TLS (CloudWatch does).
        enforceSSL: true,
      });
      topic.addSubscription(new EmailSubscription(props.target.email));
      acknowledge(
        topic,
        'AwsSolutions-SNS2',
        'The topic carries alarm names and states only, no customer data; CloudWatch alarms ' +
          'cannot publish to a topic encrypted with the AWS managed SNS key, and a customer ' +
          'managed key with a CloudWatch grant would cost more than the alarms it serves.',
      );
      this.topic = topic;
    }
    Aspects.of(scope).add(new NotifyEveryAlarm(new SnsAction(this.topic)), {
      priority: AspectPriority.MUTATING,
    });
  }
}
