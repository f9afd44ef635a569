/**
 * Writes docs/explorer.png, the README's picture of the graph explorer: starts the service on 127.0.0.1 with a
 * temporary embedded database, posts the example scenario (rundll32 injects RuntimeBroker, which queries a DC over
 * ADWS), opens the page in headless Chromium, selects the alert, clicks the injected process and takes the picture.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { createApp } from '../src/app.setup.js';
import { loadConfig } from '../src/config/app.config.js';
import { openDatabase } from '../src/database/database.factory.js';
import { runMigrations } from '../src/database/migrator.js';
import { keepToLocalhost, launchChromium } from './headless-chromium.js';

const ROOT = new URL('../../', import.meta.url);
const SCENARIO = new URL('examples/adws-after-injection.ndjson', ROOT);
const TARGET = new URL('docs/explorer.png', ROOT);
const VIEWPORT = { width: 1440, height: 860 };

async function main(): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'explorer-screenshot-'));
  const key = randomBytes(24).toString('hex');
  const config = {
    ...loadConfig({}),
    dataDir,
    logLevel: 'warn' as const,
    bootstrapAdminKey: key,
    rateLimitPerMinute: 0,
    webhookDispatcher: false,
  };
  const db = await openDatabase(config);
  await runMigrations(db);
  const app = await createApp(config, db);

  try {
    await app.listen(0, '127.0.0.1');
    const baseUrl = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
    await ingestScenario(baseUrl, key);
    await photograph(baseUrl, key);
  } finally {
    await app.close();
    await rm(dataDir, { recursive: true, force: true });
  }
  process.stdout.write(`wrote ${TARGET.pathname}\n`);
}

async function ingestScenario(baseUrl: string, key: string): Promise<void> {
  const reply = await fetch(`${baseUrl}/api/v1/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-ndjson', 'x-api-key': key },
    body: await readFile(SCENARIO),
  });
  if (!reply.ok) throw new Error(`ingesting the scenario failed: ${reply.status} ${await reply.text()}`);
}

async function photograph(baseUrl: string, key: string): Promise<void> {
  const browser = await launchChromium();
  try {
    const context = await browser.newContext({ viewport: VIEWPORT });
    const blocked = await keepToLocalhost(context);
    const page = await context.newPage();
    await page.goto(`${baseUrl}/`);
    await page.fill('#api-key', key);
    await page.click('#key-form button[type=submit]');
    await page.locator('#alert-list button').first().click();
    await page.waitForFunction(() => (globalThis as any).document.body.dataset.graph === 'drawn');

    const target = await page.evaluate(() => {
      const { cy } = (globalThis as any).explorer;
      const node = cy.nodes('[role = "injected"]')[0];
      const box = cy.container().getBoundingClientRect();
      return { x: box.left + node.renderedPosition().x, y: box.top + node.renderedPosition().y };
    });
    await page.mouse.click(target.x, target.y);
    await page.locator('#details .record').first().waitFor();
    if (blocked.length > 0) throw new Error(`the page asked for other hosts: ${blocked.join(', ')}`);

    await mkdir(new URL('.', TARGET), { recursive: true });
    await page.screenshot({ path: TARGET.pathname });
  } finally {
    await browser.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
