/**
 * Debian's Chromium driven by playwright-core, for the explorer's browser test and its README screenshot. Only the
 * system browser is used (playwright-core never downloads one), and nothing it does may leave this machine.
 */
import { existsSync } from 'node:fs';
import type { Browser, BrowserContext } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Headless without a GPU (Cytoscape draws on a 2D canvas) and without any of Chromium's own network traffic. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** Why a headless browser cannot run here, or null when it can. */
export async function chromiumUnavailable(): Promise<string | null> {
  if (!existsSync(CHROMIUM_PATH)) return `${CHROMIUM_PATH} is missing (apt-get install chromium)`;
  try {
    await import('playwright-core');
  } catch {
    return 'playwright-core is not installed (npm install -D playwright-core)';
  }

  return null;
}

/** A fresh browser (playwright gives it a new temporary profile). */
export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import('playwright-core');

  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
}

/**
 * Aborts every request of the context that is not for this machine and returns the list of those it stopped,
 * so a test can assert that the page asked for nothing elsewhere (a CDN, a font).
 */
export async function keepToLocalhost(context: BrowserContext): Promise<string[]> {
  const blocked: string[] = [];
  await context.route('**/*', async (route) => {
    const url = new URL(route.request().url());
    if (LOCAL_HOSTS.has(url.hostname)) return route.continue();

    blocked.push(url.href);
    return route.abort('blockedbyclient');
  });

  return blocked;
}
