import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { withoutFaketime } from './process.ts';

/** Debian's chromium (installed by .ci/run); Playwright never downloads a browser here. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`Chromium not found at ${CHROMIUM_PATH}: install Debian's chromium (bash .ci/run does) or set CHROMIUM_PATH`);
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    // libfaketime (the suite is also run at a shifted date) hangs Chromium's renderer: the
    // browser keeps the real clock, like a user's laptop whose clock differs from the server's.
    // Curfew's pages judge time by the server's now (data-now), so they must cope with that.
    env: withoutFaketime(),
    // The machine has no route to the internet: background networking only produces refusals.
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}
