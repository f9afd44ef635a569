import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Database } from '../../src/database/database.js';
import { PgDatabase } from '../../src/database/pg.database.js';
import { PgliteDatabase } from '../../src/database/pglite.database.js';
import { runMigrations } from '../../src/database/migrator.js';
import { quoteIdentifier } from '../../src/database/sql.identifier.js';

export interface TestDatabaseConfig {
  databaseUrl: string | null;
  databaseSchema: string | null;
  dataDir: string;
}

export interface TestDatabase {
  db: Database;
  config: TestDatabaseConfig;
  cleanup(): Promise<void>;
}

const MEMORY = 'memory://';

/**
 * A migrated, empty database for one test file. With DATABASE_URL: a fresh schema `t_<random>` on that
 * server, dropped by `cleanup`. Without: in-memory PGlite. Every test tier runs against both this way.
 * `migrate: false` gives the empty database (for migration tests).
 */
export async function createTestDatabase(options: { migrate?: boolean } = {}): Promise<TestDatabase> {
  const migrate = options.migrate ?? true;
  const databaseUrl = process.env.DATABASE_URL || null;
  if (databaseUrl === null) return createPgliteTestDatabase(migrate);

  const schema = `t_${randomBytes(6).toString('hex')}`;
  const db = new PgDatabase({ databaseUrl, schema });
  const cleanup = async () => {
    try {
      await db.query(`DROP SCHEMA IF EXISTS ${quoteIdentifier(schema)} CASCADE`);
    } finally {
      await db.close();
    }
  };
  if (migrate) await migrateOrCleanUp(db, cleanup);

  return { db, config: { databaseUrl, databaseSchema: schema, dataDir: MEMORY }, cleanup };
}

async function createPgliteTestDatabase(migrate: boolean): Promise<TestDatabase> {
  const db = await PgliteDatabase.open({ dataDir: MEMORY });
  const cleanup = () => db.close();
  if (migrate) await migrateOrCleanUp(db, cleanup);

  return { db, config: { databaseUrl: null, databaseSchema: null, dataDir: MEMORY }, cleanup };
}

async function migrateOrCleanUp(db: Database, cleanup: () => Promise<void>): Promise<void> {
  try {
    await runMigrations(db);
  } catch (error) {
    await cleanup();
    throw error;
  }
}

/** Storage that outlives the apps started on it: each `open` connects anew (an app closes its database). */
export interface RestartableTestDatabase {
  open(): Promise<TestDatabase>;
  destroy(): Promise<void>;
}

/**
 * For restart tests: with DATABASE_URL, one schema reopened by each `open`; without, a PGlite data folder on disk
 * (in-memory PGlite cannot be reopened). `destroy` drops the schema or deletes the folder.
 */
export async function createRestartableTestDatabase(): Promise<RestartableTestDatabase> {
  const first = await createTestDatabase();
  const databaseUrl = process.env.DATABASE_URL || null;
  if (databaseUrl !== null) {
    const schema = first.config.databaseSchema!;
    await first.db.close();
    const open = async (): Promise<TestDatabase> => {
      const db = new PgDatabase({ databaseUrl, schema });
      return { db, config: first.config, cleanup: () => db.close() };
    };
    const destroy = async () => {
      const db = new PgDatabase({ databaseUrl, schema });
      await db.query(`DROP SCHEMA IF EXISTS ${quoteIdentifier(schema)} CASCADE`).finally(() => db.close());
    };
    return { open, destroy };
  }

  await first.cleanup();
  const dataDir = await mkdtemp(join(tmpdir(), 'adws-restart-'));
  const config = { databaseUrl: null, databaseSchema: null, dataDir };
  const seed = await PgliteDatabase.open({ dataDir });
  await runMigrations(seed).finally(() => seed.close());
  const open = async (): Promise<TestDatabase> => {
    const db = await PgliteDatabase.open({ dataDir });
    return { db, config, cleanup: () => db.close() };
  };
  return { open, destroy: () => rm(dataDir, { recursive: true, force: true }) };
}
