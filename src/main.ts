import { JsonLogger } from './common/json.logger.js';
import { createApp } from './app.setup.js';
import { loadConfig } from './config/app.config.js';
import { openDatabase } from './database/database.factory.js';
import { runMigrations } from './database/migrator.js';

async function bootstrap(): Promise<void> {
  const logger = JsonLogger.for('bootstrap');
  const config = loadConfig();
  JsonLogger.setLevel(config.logLevel);

  const db = await openDatabase(config);
  const migrations = await runMigrations(db);
  logger.info('database ready', {
    database: db.kind,
    location: config.databaseUrl ? redactUrl(config.databaseUrl) : config.dataDir,
    migrationsApplied: migrations.applied.length,
    migrationsTotal: migrations.total,
  });

  const app = await createApp(config, db);
  if (config.host) await app.listen(config.port, config.host);
  else await app.listen(config.port);
  logger.info('listening', {
    host: config.host ?? 'every interface',
    port: config.port,
    explorer: `http://localhost:${config.port}/`,
    docs: `http://localhost:${config.port}/docs`,
  });
}

function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}

bootstrap().catch((error: unknown) => {
  JsonLogger.for('bootstrap').failure('start-up failed', { error });
  process.exit(1);
});
