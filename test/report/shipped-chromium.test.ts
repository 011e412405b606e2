import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { launchChromium } from '../support/chromium.js';

/**
 * `npm ci && npm test` on a machine with only Node and npm (issue 15): with no Chromium installed
 * (no CHROMIUM_PATH, none at the usual paths) the browser tests run the build shipped inside the
 * @sparticuz/chromium package, unpacked under the OS temp dir and removed when closed.
 */
let saved: string | undefined;
beforeEach(() => {
  saved = process.env.CHROMIUM_PATH;
  delete process.env.CHROMIUM_PATH;
});
afterEach(() => {
  if (saved !== undefined) process.env.CHROMIUM_PATH = saved;
});

describe('a machine without Chromium', () => {
  it('renders a page with the Chromium shipped in @sparticuz/chromium, then removes it', async () => {
    const { browser, close, executablePath } = await launchChromium({
      systemPaths: ['/nonexistent/chromium'],
    });
    try {
      expect(executablePath.startsWith(tmpdir())).toBe(true);
      expect(existsSync(executablePath)).toBe(true);
      const page = await browser.newPage();
      await page.setContent('<h1>Finished: 20 rows need a decision</h1>');
      expect(await page.locator('h1').textContent()).toBe('Finished: 20 rows need a decision');
    } finally {
      await close();
    }
    expect(existsSync(executablePath)).toBe(false);
  }, 120_000);
});
