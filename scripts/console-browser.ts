import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

/** The chromium the console's browser tests and screenshot drive (env CHROMIUM_PATH). */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Launches headless chromium, or fails saying how to get it: the browser tests never skip
 * silently for want of a browser.
 */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `chromium not found at ${CHROMIUM_PATH}: install it (Debian/Ubuntu: apt-get install -y chromium) ` +
        'or set CHROMIUM_PATH to a chromium or chrome binary',
    );
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: ['--no-sandbox'], headless: true });
}
