/** Writes the OpenAPI document the code declares to openapi/openapi.json (a test fails when they differ). */
import { mkdir, writeFile } from 'node:fs/promises';

import { buildOpenApiDocument, createApp } from '../src/app.setup.js';
import { loadConfig } from '../src/config/app.config.js';
import { openDatabase } from '../src/database/database.factory.js';

const TARGET = new URL('../../openapi/openapi.json', import.meta.url);

async function main(): Promise<void> {
  const config = { ...loadConfig({}), logLevel: 'warn' as const };
  const db = await openDatabase({ ...config, dataDir: 'memory://' });
  const app = await createApp(config, db);
  const document = buildOpenApiDocument(app);
  await app.close();

  await mkdir(new URL('.', TARGET), { recursive: true });
  await writeFile(TARGET, `${JSON.stringify(document, null, 2)}\n`);
  process.stdout.write(`wrote ${TARGET.pathname} (${Object.keys(document.paths).length} paths)\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
