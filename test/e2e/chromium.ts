/**
 * Headless Chromium for the e2e tests (docs/decisions.md, "Headless Chromium for the e2e tests"): Debian's package,
 * driven by playwright-core.
 */
import * as fs from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';
export const INSTALL_HINT = 'sudo apt-get install -y chromium';

/**
 * Flags from docs/decisions.md ("Headless Chromium for the e2e tests"), plus no Sync and no QUIC (nothing but our
 * loopback servers is contacted).
 */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
  '--disable-quic',
];

export function chromiumAvailable(): boolean {
  try {
    fs.accessSync(CHROMIUM_PATH, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Playwright's launch uses a fresh temporary user-data-dir (removed on close); each test opens its own context. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, timeout: 20_000 });
}
