import type { NestExpressApplication } from '@nestjs/platform-express';
import request from 'supertest';

import { createApp } from '../../src/app.setup.js';
import { loadConfig, type AppConfig } from '../../src/config/app.config.js';
import { WebhookDispatcher } from '../../src/webhooks/webhook.dispatcher.js';
import type { Database } from '../../src/database/database.js';
import { createTestDatabase, type TestDatabase } from './test-database.js';

/** The admin key every test app is started with (BOOTSTRAP_ADMIN_KEY); `http()` sends it. */
export const TEST_ADMIN_KEY = 'test-admin-key-0123456789abcdef';

export interface TestApp {
  app: NestExpressApplication;
  db: Database;
  /** Requests authenticated with the admin key (see `anonymous` for none). */
  http: () => ReturnType<typeof request.agent>;
  /** Requests without credentials. */
  anonymous: () => ReturnType<typeof request>;
  /** Posts Defender rows as a JSON array to a table route (`DeviceEvents`, `DeviceNetworkEvents`), as admin. */
  postRows: (table: string, rows: readonly unknown[]) => ReturnType<ReturnType<typeof request.agent>['post']>;
  adminKey: string;
  /** Adds one exclusion to the ADWS rule's settings (powershell.exe injecting on `deviceId`) and re-runs it. */
  excludeAndRerun: (exclusion: { deviceId: string; targetFileName?: string }) => Promise<void>;
  close(): Promise<void>;
}

/**
 * The real Nest application (same setup as main.ts) on its own database: a fresh schema on the server named
 * by DATABASE_URL, or an in-memory PGlite without it.
 */
export async function createTestApp(overrides: Partial<AppConfig> = {}, existing?: TestDatabase): Promise<TestApp> {
  const database = existing ?? (await createTestDatabase());
  const config: AppConfig = {
    ...loadConfig({}),
    ...database.config,
    logLevel: 'error',
    bootstrapAdminKey: TEST_ADMIN_KEY,
    rateLimitPerMinute: 0,
    ...overrides,
  };
  const app = await createApp(config, database.db).catch(async (error: unknown) => {
    await database.cleanup();
    throw error;
  });
  await app.init();

  return {
    app,
    db: database.db,
    http: () => request.agent(app.getHttpServer()).set('Authorization', `Bearer ${TEST_ADMIN_KEY}`),
    anonymous: () => request(app.getHttpServer()),
    postRows: (table, rows) =>
      request
        .agent(app.getHttpServer())
        .set('Authorization', `Bearer ${TEST_ADMIN_KEY}`)
        .post(`/api/v1/events/${table}`)
        .set('content-type', 'application/json')
        .send(JSON.stringify(rows)),
    adminKey: TEST_ADMIN_KEY,
    async excludeAndRerun({ deviceId, targetFileName }) {
      const rule = '/api/v1/rules/adws-connection-from-process-injection-target';
      const http = () => request.agent(app.getHttpServer()).set('Authorization', `Bearer ${TEST_ADMIN_KEY}`);
      const settings = (await http().get(rule).expect(200)).body.settings;
      const exclusion = {
        description: `test exclusion on ${deviceId}`,
        injectorFileName: 'powershell.exe',
        injectorFolderPath: null,
        folderPathMatch: 'equals',
        targetFileName: targetFileName ?? null,
        deviceId,
      };
      await http()
        .put(rule)
        .send({ ...settings, exclusions: [...settings.exclusions, exclusion] })
        .expect(200);
      await http().post(`${rule}/rerun`).expect(200);
    },
    async close() {
      // The dispatcher's round in progress records its attempts before the database goes.
      await app.get(WebhookDispatcher).stop();
      await database.cleanup();
      await app.close();
    },
  };
}
