import type { Database } from './database.js';
import { PgDatabase } from './pg.database.js';
import { PgliteDatabase } from './pglite.database.js';
import type { DatabaseLogger, DatabaseOptions } from './query.timer.js';

export interface DatabaseConfig {
  /** A server URL selects `pg`; null selects embedded PGlite in `dataDir`. */
  databaseUrl: string | null;
  dataDir: string;
  databaseSchema: string | null;
  logger?: DatabaseLogger;
  onQuery?: DatabaseOptions['onQuery'];
}

export async function openDatabase(cfg: DatabaseConfig): Promise<Database> {
  const options: DatabaseOptions = { logger: cfg.logger, onQuery: cfg.onQuery };
  if (cfg.databaseUrl) return new PgDatabase({ ...options, databaseUrl: cfg.databaseUrl, schema: cfg.databaseSchema });

  // TODO: DATABASE_SCHEMA is ignored on PGlite (one database per data folder); say so if it ever matters.
  return PgliteDatabase.open({ ...options, dataDir: cfg.dataDir });
}
