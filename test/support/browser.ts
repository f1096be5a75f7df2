import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';

/**
 * Debian's Chromium driven by playwright-core (no browser download: `apt-get install chromium`).
 * As root on a closed network it needs no sandbox, no GPU, no QUIC and none of its background
 * fetches, or it stalls; each launch gets a fresh profile, removed on close.
 *
 * Where Chromium is missing, browser tests skip and say why; with BUGBOT_REQUIRE_BROWSER=1 (CI)
 * they fail instead.
 */

export const CHROMIUM_PATH = process.env.BUGBOT_CHROMIUM ?? '/usr/bin/chromium';
export const BROWSER_REQUIRED = process.env.BUGBOT_REQUIRE_BROWSER === '1';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
] as const;

export type BrowserAvailability =
  | { readonly available: true }
  | { readonly available: false; readonly reason: string };

export function findBrowser(): BrowserAvailability {
  try {
    accessSync(CHROMIUM_PATH, constants.X_OK);
    return { available: true };
  } catch {
    return {
      available: false,
      reason: `no Chromium at ${CHROMIUM_PATH} (install it with \`apt-get install chromium\`, or set BUGBOT_CHROMIUM)`,
    };
  }
}

export interface LaunchedBrowser {
  readonly context: BrowserContext;
  close(): Promise<void>;
}

export async function launchBrowser(
  options: { viewport?: { width: number; height: number } } = {},
): Promise<LaunchedBrowser> {
  const profile = mkdtempSync(join(tmpdir(), 'bugbot-chromium-'));
  try {
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: [...CHROMIUM_ARGS],
      viewport: options.viewport ?? { width: 1400, height: 900 },
      timeout: 60_000,
    });
    return {
      context,
      async close() {
        await context.close().catch(() => undefined);
        rmSync(profile, { recursive: true, force: true });
      },
    };
  } catch (error) {
    rmSync(profile, { recursive: true, force: true });
    throw error;
  }
}
