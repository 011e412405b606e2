import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';

/** Where a machine's own Chromium usually is; `CHROMIUM_PATH` comes first when set. */
const SYSTEM_CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Starts a headless Chromium driven by playwright-core: the machine's own when it has one
 * (`CHROMIUM_PATH`, else the usual install paths), otherwise the build shipped inside the
 * `@sparticuz/chromium` npm package, so `npm ci && npm test` needs nothing else installed. That
 * build is unpacked (about 200 MB, a few seconds) into a fresh folder of the OS temp dir, done in a
 * child process because the package unpacks into `os.tmpdir()`; `close()` removes the folder.
 * `systemPaths` replaces the usual install paths (a test of a machine without Chromium passes []).
 * Throws when `CHROMIUM_PATH` names a missing file, or the shipped build cannot be unpacked.
 */
export async function launchChromium(
  options: { systemPaths?: readonly string[] } = {},
): Promise<{ browser: Browser; close: () => Promise<void>; executablePath: string }> {
  const wanted = process.env.CHROMIUM_PATH;
  if (wanted && !existsSync(wanted))
    throw new Error(`CHROMIUM_PATH is ${wanted}, and there is no file there`);
  let unpacked: string | undefined;
  let executablePath = wanted ?? (options.systemPaths ?? SYSTEM_CHROMIUM).find((p) => existsSync(p));
  if (!executablePath) {
    unpacked = await mkdtemp(join(tmpdir(), 'chromium-'));
    executablePath = execFileSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        "console.log(await (await import('@sparticuz/chromium')).default.executablePath())",
      ],
      { env: { ...process.env, TMPDIR: unpacked }, encoding: 'utf8' },
    ).trim();
  }
  const browser = await chromium.launch({ executablePath, args: ARGS });
  return {
    browser,
    executablePath,
    close: async () => {
      await browser.close();
      if (unpacked) await rm(unpacked, { recursive: true, force: true });
    },
  };
}
