import { z } from 'zod';

/**
 * The EventBridge "Object Created" event of the exports bucket, as far as StartRun reads it
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/ev-events.html). Other fields pass.
 */
export const ObjectCreatedEvent = z.object({
  detail: z.object({
    bucket: z.object({ name: z.string().min(1) }),
    object: z.object({
      /** URL-encoded, `+` for spaces. */
      key: z.string().min(1),
      'version-id': z.string().optional(),
      etag: z.string().optional(),
    }),
    /** The account or principal that put the object. */
    requester: z.string().optional(),
  }),
});

/** The run-start queue's SQS event as StartRun reads it: each body an ObjectCreatedEvent. */
export const RunStartMessages = z.object({
  Records: z.array(z.object({ body: z.string(), eventSource: z.literal('aws:sqs') })).min(1),
});
