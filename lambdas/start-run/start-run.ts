import { createHash } from 'node:crypto';
import { APPROVAL_SUFFIX } from '../../src/core/approval.js';

/**
 * Decides what a newly created object in the bucket starts. An export under
 * `exports/<clinicId>/…zip` starts a dry run; an approval marker beside it (`….zip.approved`)
 * starts its live run; the execution's name comes from the bucket, key and
 * version (or ETag), so the same event delivered twice names the same execution and the second
 * start is refused by Step Functions instead of starting a second run.
 */
export interface ObjectCreated {
  readonly bucket: string;
  readonly key: string;
  readonly versionId?: string;
  readonly etag?: string;
  readonly requester?: string;
}

export interface RunStart {
  readonly name: string;
  readonly input: {
    runId: string;
    clinicId: string;
    bucket: string;
    key: string;
    mode: 'dry-run' | 'live';
    startedBy: string;
    /** A live run's approval marker (Preflight checks it against the approved dry run); '' for none. */
    approvalKey: string;
  };
}

const EXPORT_KEY = /^exports\/([A-Za-z0-9_-]{1,64})\/[^/]+\.zip$/;

export function runName(bucket: string, key: string, version: string): string {
  // Step Functions names: at most 80 characters of [A-Za-z0-9-_].
  return `run-${createHash('sha256').update(`${bucket}/${key}@${version}`).digest('hex').slice(0, 40)}`;
}

const MARKER_KEY = /^exports\/([A-Za-z0-9_-]{1,64})\/[^/]+\.zip\.approved$/;

export function runStartFor(event: ObjectCreated): RunStart | undefined {
  const marker = MARKER_KEY.exec(event.key);
  if (marker?.[1]) {
    // Sign-off: the live run of the export beside the marker.
    const name = runName(event.bucket, event.key, event.versionId ?? event.etag ?? 'unversioned');
    return {
      name,
      input: {
        runId: name,
        clinicId: marker[1],
        bucket: event.bucket,
        key: event.key.slice(0, -APPROVAL_SUFFIX.length),
        mode: 'live',
        startedBy: event.requester ?? 'unknown',
        approvalKey: event.key,
      },
    };
  }
  const match = EXPORT_KEY.exec(event.key);
  if (!match?.[1]) return undefined;
  const name = runName(event.bucket, event.key, event.versionId ?? event.etag ?? 'unversioned');
  return {
    name,
    input: {
      runId: name,
      clinicId: match[1],
      bucket: event.bucket,
      key: event.key,
      mode: 'dry-run',
      startedBy: event.requester ?? 'unknown',
      approvalKey: '',
    },
  };
}
