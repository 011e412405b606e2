/**
 * Output to a reader that has gone (`cliniko-migrate status | head -3`) ends quietly (issue 26):
 * once `stream` reports EPIPE, what the command still prints is dropped instead of crashing the
 * process with an unhandled 'error' and a stack trace. The command itself runs to its end and
 * keeps its exit code (0 for `status`): a live run is not abandoned because a pager closed.
 * Any other error on the stream is raised as before. Call once per process, on `process.stdout`.
 */
export function endQuietlyOnClosedPipe(stream: NodeJS.WriteStream): void {
  let closed = false;
  stream.on('error', (err: NodeJS.ErrnoException) => {
    // A write after the first EPIPE fails again (ERR_STREAM_DESTROYED): the same closed reader.
    if (err.code === 'EPIPE' || (closed && err.code === 'ERR_STREAM_DESTROYED')) {
      closed = true;
      return;
    }
    throw err;
  });
}
