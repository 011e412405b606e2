import { z } from 'zod';

/**
 * Sign-off on AWS: an object named after the export with `.approved` appended, dropped beside it
 * (by `approve --stack`, or by hand). Its arrival starts the live run of that export.
 */
export const APPROVAL_SUFFIX = '.approved';

/** Tag of an export whose live run finished: the bucket's lifecycle removes it after a grace period. */
export const SIGNED_OFF_TAG = 'cliniko-migrate-signed-off';

export const approvalMarkerKey = (exportKey: string) => `${exportKey}${APPROVAL_SUFFIX}`;

/** What `approve` writes into the marker; a marker dropped by hand may be empty. */
export const ApprovalMarker = z.object({
  runId: z.string().optional(),
  sha256: z.string().optional(),
  approvedBy: z.string().optional(),
  approvedAt: z.string().optional(),
});
export type ApprovalMarker = Readonly<z.output<typeof ApprovalMarker>>;
