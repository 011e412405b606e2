import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { ClinikoClient } from '../../src/cliniko/client.js';
import { DeferError } from '../../src/cliniko/rate-limiter.js';
import { parseWriteMessage } from '../../src/mapping/write-payload.js';
import type { WriteCommand } from '../../src/ports/command-queue.js';
import { openZipSource } from '../../src/source/archive.js';
import { clinikoFor, flushRequests, log, onRuntimeReset, runtime } from '../shared/runtime.js';
import { errorName } from '../shared/safe-log.js';
import { WriterCaches } from './caches.js';
import { writeCommand } from './write-command.js';
import { DeferredWrite } from './write-deps.js';

/**
 * The SQS writer: each message one record. Messages that should be tried again are reported as
 * batch item failures (the rest of the batch is deleted); after maxReceiveCount they go to the
 * dead-letter queue. A message that would have to wait for the rate limit is sent back with a
 * delay instead of sleeping in a paid Lambda.
 */
/** The writer's caches and their lifetime: caches.ts. */
const caches = new WriterCaches();
onRuntimeReset(() => caches.clear());

// The batch processor keeps one invocation's state, so each invocation gets its own: the local
// runner hosts concurrent invocations in one process, which a Lambda container never does.
export const handler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  const rt = runtime();
  caches.queue ??= rt.queue();
  const queue = caches.queue;
  caches.clients ??= clinikoFor({ maxTokenWaitMs: rt.env.maxTokenWaitMs ?? 2000 });
  const clientFor = caches.clients;
  const runOf = (runId: string) => caches.run(runId, () => rt.store.getRun(runId));
  const used = new Map<string, Set<ClinikoClient>>();

  const openDocument = async (runId: string, path: string) => {
    const archive = caches.archive(runOf(runId), async (run) =>
      openZipSource(await rt.blobs.byteSource(run.bucket, run.exportKey)),
    );
    return (await archive).open(path);
  };

  const openRunFile = async (runId: string, key: string) => {
    const run = await runOf(runId).info;
    return rt.blobs.read(run.bucket, key);
  };

  const record = async (message: SQSRecord): Promise<void> => {
    let cmd: WriteCommand;
    // a command too long for a message was kept in the bucket: its message says where
    const body = queue ? await queue.bodyOf(message.body) : message.body;
    try {
      cmd = parseWriteMessage(body);
    } catch (err) {
      // No retry makes it readable: it is reported failed and ends in the dead-letter queue.
      log.warn('write message refused', { code: 'MALFORMED_WRITE_MESSAGE', error: errorName(err) });
      throw err;
    }
    const info = await runOf(cmd.runId).info;
    const credentials = await rt.secrets.credentials(cmd.clinicId);
    const cliniko = (keyIndex: number) => {
      const c = clientFor(
        credentials,
        keyIndex,
        info.clinikoUsers[keyIndex % Math.max(1, info.clinikoUsers.length)],
      );
      const set = used.get(cmd.runId) ?? new Set<ClinikoClient>();
      used.set(cmd.runId, set);
      set.add(c);
      return c;
    };
    try {
      const result = await writeCommand(
        cmd,
        {
          store: rt.store,
          cliniko,
          now: rt.now,
          openDocument,
          openRunFile,
          keyCount: credentials.apiKeys.length,
          runStartedAt: info.startedAt,
          referralTypes: caches.referralTypes,
        },
        { receiveCount: Number(message.attributes.ApproximateReceiveCount ?? 1), owner: message.messageId },
      );
      // Cliniko refused the key: it may have been rotated since this container read the secret, so
      // the next message reads the secret again rather than wait out its age.
      if (result.code === 'CLINIKO_AUTH') {
        rt.secrets.forget(cmd.clinicId);
        log.warn('cached secret dropped: Cliniko refused the key', {
          runId: cmd.runId,
          clinicId: cmd.clinicId,
        });
      }
      log.debug('written', {
        runId: cmd.runId,
        entity: cmd.entity,
        sourceId: cmd.sourceId,
        outcome: result.outcome,
        code: result.code,
      });
    } catch (err) {
      if (err instanceof DeferError && queue) {
        await queue.sendLater(err instanceof DeferredWrite ? err.command : cmd, err.delayMs / 1000);
        return;
      }
      log.warn('write will be retried', {
        runId: cmd.runId,
        entity: cmd.entity,
        sourceId: cmd.sourceId,
        error: errorName(err),
      });
      throw err;
    }
  };
  try {
    // A batch's records at once: each waits on its own key's bucket (its lane), so a batch that
    // spans several keys keeps them all busy, and Cliniko's latency is not paid one record at a time.
    const response = await processPartialResponse(event, record, new BatchProcessor(EventType.SQS), {
      context,
      processInParallel: true,
    });
    // A failed record comes back after a backoff that grows with its receives, not after the
    // queue's visibility timeout (sized for the writer's slowest batch).
    const failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
    await queue?.retryLater(
      event.Records.filter((r) => failed.has(r.messageId)).map((r) => ({
        receiptHandle: r.receiptHandle,
        seconds: retryDelaySeconds(
          Number(r.attributes.ApproximateReceiveCount ?? 1),
          rt.env.writeRetryBaseSeconds,
        ),
      })),
    );
    return response;
  } finally {
    for (const [runId, clients] of used) await flushRequests(runId, clients, caches.flushed);
  }
};

/**
 * Seconds before a write that failed on its `receiveCount`-th receive comes back: `baseSeconds`
 * doubled at each receive, at most 15 minutes (after maxReceiveCount receives it is dead-lettered).
 */
export function retryDelaySeconds(receiveCount: number, baseSeconds: number): number {
  return Math.min(900, baseSeconds * 2 ** Math.max(0, receiveCount - 1));
}
