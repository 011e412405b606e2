import type { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import yazl from 'yazl';
import { startSandbox } from '../apps/sandbox/server.js';

/**
 * Streams a 200 MB upload from an export zip through Cliniko's attachment flow (the sandbox's)
 * in a child process and prints that process's peak RSS (target < 300 MB) and throughput. The
 * file is random, so the zip stores it as it is, as scans and photos are in real exports.
 */
export async function uploadBench(): Promise<Record<string, number>> {
  const megabytes = Number(process.env.BENCH_UPLOAD_MB ?? 200);
  const dir = join(tmpdir(), 'cliniko-migrate-bench');
  mkdirSync(dir, { recursive: true });
  const zip = join(dir, `upload-${megabytes}mb.zip`);
  if (!existsSync(zip)) {
    const z = new yazl.ZipFile();
    const out = createWriteStream(zip);
    z.outputStream.pipe(out);
    const chunk = 1024 * 1024;
    let left = megabytes;
    const { Readable } = await import('node:stream');
    const data = Readable.from(
      (function* () {
        while (left-- > 0) yield randomBytes(chunk);
      })(),
    );
    z.addBuffer(Buffer.from('UploadId,ClientId,FilePath\r\nU1,C1,Uploads/scan.bin\r\n'), 'Uploads.csv');
    z.addReadStream(data, 'Uploads/scan.bin', { compress: false });
    z.end();
    await finished(out);
  }
  const apiKey = 'BenchUploadKey00000000000001-au1';
  const sandbox = await startSandbox({
    rateLimit: 100_000,
    attachmentProcessingMs: 10,
    seed: {
      users: [{ first_name: 'Bench', last_name: 'Upload', is_practitioner: true, api_key: apiKey }],
      businesses: [{ business_name: 'Bench Clinic', time_zone_identifier: 'Pacific/Auckland' }],
    },
  });
  try {
    const child = await new Promise<ReturnType<typeof spawnSync>>((resolve) => {
      // spawnSync would block the sandbox in this process: run the child asynchronously.
      import('node:child_process').then(({ spawn }) => {
        const p = spawn(process.execPath, [
          '--import',
          'tsx',
          new URL('./upload-child.ts', import.meta.url).pathname,
          zip,
          'Uploads/scan.bin',
          sandbox.baseUrl,
          apiKey,
        ]);
        let stdout = '';
        let stderr = '';
        p.stdout.on('data', (d: Buffer) => {
          stdout += d.toString();
        });
        p.stderr.on('data', (d: Buffer) => {
          stderr += d.toString();
        });
        p.on('close', (status) =>
          resolve({ status, stdout, stderr } as unknown as ReturnType<typeof spawnSync>),
        );
      });
    });
    if (child.status !== 0) throw new Error(`upload failed: ${String(child.stderr)}`);
    const r = JSON.parse(String(child.stdout).trim().split('\n').pop() ?? '{}') as {
      id: string;
      bytes: number;
      seconds: number;
      rssBeforeMb: number;
      maxRssMb: number;
    };
    const stored = sandbox.state.all('patient_attachments').find((a) => a.id === r.id);
    const storedBytes = stored?.storage_path ? statSync(String(stored.storage_path)).size : 0;
    if (storedBytes !== r.bytes) throw new Error(`Cliniko holds ${storedBytes} bytes, expected ${r.bytes}`);
    const mbPerSecond = r.bytes / 1024 / 1024 / r.seconds;
    console.log(
      `${(r.bytes / 1024 / 1024).toFixed(0)} MB uploaded in ${r.seconds.toFixed(2)} s (${mbPerSecond.toFixed(0)} MB/s), all bytes stored`,
    );
    console.log(
      `peak RSS while streaming ${r.maxRssMb.toFixed(0)} MB (target < 300 MB; ${r.rssBeforeMb.toFixed(0)} MB before the upload)`,
    );
    return { megabytes: r.bytes / 1024 / 1024, seconds: r.seconds, mbPerSecond, peakRssMb: r.maxRssMb };
  } finally {
    await sandbox.close();
  }
}
