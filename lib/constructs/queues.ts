import { Duration, type Stack } from 'aws-cdk-lib';
import type { Key } from 'aws-cdk-lib/aws-kms';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { SQS_LIMITS } from '../../src/core/aws-limits.js';

export interface QueuesProps {
  readonly key: Key;
  /** The writer Lambda's timeout: the write queue's visibility timeout is six times it. */
  readonly writerTimeout: Duration;
}

/** The write queue between the mappers and the writers, and where its failures end up. */
export interface Queues {
  readonly writeQueue: Queue;
  /** Write commands that failed five deliveries (alarmed on). */
  readonly deadLetterQueue: Queue;
}

/**
 * Adds the write queue (KMS-encrypted, TLS only; a message goes to the dead-letter queue, kept 14
 * days, after five receives). Added to the stack itself so the logical ids stay those of deployed
 * stacks.
 */
export function addQueues(stack: Stack, props: QueuesProps): Queues {
  const deadLetterQueue = addDeadLetterQueue(stack, 'WriteDeadLetters', props.key);
  const writeQueue = new Queue(stack, 'WriteQueue', {
    encryption: QueueEncryption.KMS,
    encryptionMasterKey: props.key,
    enforceSSL: true,
    // AWS: at least six times the function's timeout, so a slow batch is not delivered twice.
    visibilityTimeout: Duration.seconds(props.writerTimeout.toSeconds() * 6),
    // Held to 256 KiB (not SQS's 1 MiB quota) so the queue and its consumers agree on one limit;
    // a longer command is kept in the bucket (src/adapters/aws/sqs-command-queue.ts).
    maxMessageSizeBytes: SQS_LIMITS.maxMessageBytes,
    deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount: 5 },
  });
  return { writeQueue, deadLetterQueue };
}

/** A dead-letter queue: KMS-encrypted with `key`, TLS only, messages kept 14 days. */
export function addDeadLetterQueue(stack: Stack, id: string, key: Key): Queue {
  return new Queue(stack, id, {
    encryption: QueueEncryption.KMS,
    encryptionMasterKey: key,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
  });
}
