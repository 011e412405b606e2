import { Logger } from '@aws-lambda-powertools/logger';
import { describe, expect, it } from '@jest/globals';
import { errorName, safeLog } from '../../lambdas/shared/safe-log.js';

/** Captures what the logger would print, as parsed JSON lines. */
function capture() {
  const lines: Record<string, unknown>[] = [];
  const logger = new Logger({ serviceName: 'test', logLevel: 'DEBUG' });
  const sink = (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>);
  // Powertools prints through its console: point it at our sink.
  (logger as unknown as { console: Console }).console = {
    info: sink,
    warn: sink,
    debug: sink,
    error: sink,
    log: sink,
  } as unknown as Console;
  return { log: safeLog(logger), lines };
}

describe('the safe log', () => {
  it('passes ids, counts, codes and error names', () => {
    const { log, lines } = capture();
    log.info('written', {
      runId: 'run-abc123',
      entity: 'patients',
      sourceId: 'C17',
      outcome: 'created',
      code: 'CLINIKO_VALIDATION',
      enqueued: 3,
    });
    expect(lines[0]).toMatchObject({ message: 'written', runId: 'run-abc123', sourceId: 'C17', enqueued: 3 });
    expect(lines[0]?.withheld).toBeUndefined();
  });

  it('withholds names, e-mails, free text and fields it does not know', () => {
    const { log, lines } = capture();
    log.warn('write will be retried', {
      runId: 'run-1',
      sourceId: 'Tāne Müller',
      code: 'ann.lee@example.com',
      error: 'Cliniko refused: first_name Jo Bloggs',
      firstName: 'Jo',
    } as never);
    const line = JSON.stringify(lines[0]);
    for (const secret of ['Tāne', 'ann.lee@example.com', 'Jo Bloggs', '"Jo"'])
      expect(line).not.toContain(secret);
    expect(lines[0]?.withheld).toEqual(['sourceId', 'code', 'error', 'firstName']);
    expect(lines[0]?.runId).toBe('run-1');
  });

  it('names an error by its type, never its message', () => {
    const err = new TypeError('patient Jo Bloggs born 01/02/1980');
    expect(errorName(err)).toBe('TypeError');
    expect(errorName('a string')).toBe('Error');
  });
});
