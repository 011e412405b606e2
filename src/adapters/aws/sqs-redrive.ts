import {
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { SQS_LIMITS } from '../../core/aws-limits.js';
import { withRefind } from './sqs-command-queue.js';

/** A dead-lettered write command: its body as the writer received it. */
export interface DeadLetter {
  readonly body: string;
  readonly clinicId: string;
}

/**
 * The run a write message belongs to: its command's `runId`, or for a command kept in the bucket
 * the run folder its pointer names (`work/<runId>/messages/…`). Undefined for a body that is not
 * a command (it is left where it is).
 */
export function runOfMessage(body: string): { runId: string; clinicId: string } | undefined {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (!value || typeof value !== 'object') return undefined;
  const v = value as { runId?: unknown; clinicId?: unknown; spilledBody?: { key?: unknown } };
  if (typeof v.runId === 'string') return { runId: v.runId, clinicId: String(v.clinicId ?? '') };
  const key = v.spilledBody?.key;
  const m = typeof key === 'string' ? /^work\/([^/]+)\/messages\//.exec(key) : null;
  return m?.[1] ? { runId: m[1], clinicId: '' } : undefined;
}

/**
 * Takes a run's messages out of a dead-letter queue: receives every message there (ten at a time,
 * each hidden for `visibilitySeconds` so one pass sees each once), keeps those of `runId` and
 * deletes them from the queue only after `keep` has them safe; other runs' messages come back
 * when their visibility ends. SQS's own StartMessageMoveTask would move every run's messages (the
 * dead-letter queue is the stack's), so it is not used. Returns how many were taken.
 */
export async function takeDeadLetters(
  sqs: SQSClient,
  deadLetterQueueUrl: string,
  runId: string,
  keep: (letters: readonly DeadLetter[]) => Promise<void>,
  visibilitySeconds = 120,
): Promise<number> {
  let taken = 0;
  const seen = new Set<string>();
  for (let emptyPolls = 0; emptyPolls < 2; ) {
    const res = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: deadLetterQueueUrl,
        MaxNumberOfMessages: SQS_LIMITS.maxBatchEntries,
        VisibilityTimeout: visibilitySeconds,
        WaitTimeSeconds: 1,
      }),
    );
    const fresh = (res.Messages ?? []).filter((m) => m.MessageId && !seen.has(m.MessageId));
    if (!fresh.length) {
      emptyPolls++;
      continue;
    }
    emptyPolls = 0;
    for (const m of fresh) seen.add(String(m.MessageId));
    const ours = fresh.filter((m) => runOfMessage(String(m.Body ?? ''))?.runId === runId);
    if (!ours.length) continue;
    await keep(
      ours.map((m) => ({
        body: String(m.Body),
        clinicId: runOfMessage(String(m.Body))?.clinicId ?? '',
      })),
    );
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: deadLetterQueueUrl,
        Entries: ours.map((m, i) => ({ Id: String(i), ReceiptHandle: String(m.ReceiptHandle) })),
      }),
    );
    taken += ours.length;
  }
  return taken;
}

/**
 * Sends dead-lettered commands back to the write queue as they were (ten to a request): each is
 * then received afresh, with a new receive count. Safe to repeat: the writer re-finds a record an
 * earlier attempt created and skips one the id map already holds.
 */
export async function resend(
  sqs: SQSClient,
  writeQueueUrl: string,
  letters: readonly DeadLetter[],
): Promise<void> {
  for (let i = 0; i < letters.length; i += SQS_LIMITS.maxBatchEntries) {
    const chunk = letters.slice(i, i + SQS_LIMITS.maxBatchEntries);
    const res = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: writeQueueUrl,
        Entries: chunk.map((l, j) => ({
          Id: String(j),
          // an earlier attempt may have created the record: the writer re-finds it first
          MessageBody: withRefind(l.body),
          ...(l.clinicId ? { MessageGroupId: l.clinicId } : {}),
        })),
      }),
    );
    if (res.Failed?.length)
      throw new Error(`SQS refused ${res.Failed.length} redriven commands: ${res.Failed[0]?.Message ?? ''}`);
  }
}
