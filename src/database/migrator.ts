/**
 * Forward-only SQL migrations: `migrations/NNNN_snake_case.sql`, applied in name order, each in its own
 * transaction and recorded in `schema_migrations` with the SHA-256 of its text (line endings normalised).
 * An applied file whose text changed is refused. On a server, every step holds a transaction-scoped
 * advisory lock, so two processes starting at once apply each file once; PGlite is a single process.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConflictError, InvalidInputError } from '../common/domain.errors.js';
import type { Database, Queryable } from './database.js';
import { PgDatabase } from './pg.database.js';
import { quoteIdentifier } from './sql.identifier.js';

export const MIGRATION_FILE_NAME = /^\d{4}_[a-z0-9_]+\.sql$/;

export interface MigrationOptions {
  /** Folder of the `.sql` files; by default `<package root>/migrations`. */
  directory?: string;
  /** Schema to create first; by default the schema a `PgDatabase` was opened with. */
  schema?: string | null;
}

export interface Migration {
  name: string;
  sql: string;
  checksum: string;
}

interface AppliedRow {
  name: string;
  checksum: string;
}

// Arbitrary constant shared by every process of this service: "adws" in ASCII.
const MIGRATION_LOCK_KEY = 0x61647773;

const CREATE_LEDGER = `CREATE TABLE IF NOT EXISTS schema_migrations (
  name text PRIMARY KEY,
  checksum text NOT NULL,
  applied_at timestamptz NOT NULL
)`;
const SELECT_APPLIED = 'SELECT name, checksum FROM schema_migrations ORDER BY name';
const INSERT_APPLIED = 'INSERT INTO schema_migrations (name, checksum, applied_at) VALUES ($1, $2, now())';
const LEDGER_EXISTS = `SELECT to_regclass('schema_migrations') IS NOT NULL AS present`;

export async function runMigrations(
  db: Database,
  options: MigrationOptions = {},
): Promise<{ applied: string[]; total: number }> {
  const migrations = await loadMigrations(options.directory ?? defaultMigrationsDirectory());
  const schema = options.schema === undefined ? schemaOf(db) : options.schema;
  await db.transaction(async (tx) => {
    await lockMigrations(db, tx);
    await prepareLedger(tx, schema);
    verifyChecksums(migrations, await readApplied(tx));
  });

  const applied: string[] = [];
  for (const migration of migrations) {
    if (await applyOnce(db, migration)) applied.push(migration.name);
  }

  return { applied, total: migrations.length };
}

export async function migrationStatus(
  db: Database,
  options: MigrationOptions = {},
): Promise<{ applied: number; pending: string[] }> {
  const migrations = await loadMigrations(options.directory ?? defaultMigrationsDirectory());
  const ledger = await db.query<{ present: boolean }>(LEDGER_EXISTS);
  const applied = ledger.rows[0]?.present ? await readApplied(db) : [];
  const done = new Set(applied.map((row) => row.name));

  return { applied: applied.length, pending: migrations.filter((m) => !done.has(m.name)).map((m) => m.name) };
}

/** The `.sql` files of a folder in name order; a file with a malformed name is an error, not skipped. */
export async function loadMigrations(directory: string): Promise<Migration[]> {
  const names = (await readdir(directory)).filter((name) => name.endsWith('.sql')).sort();
  const malformed = names.find((name) => !MIGRATION_FILE_NAME.test(name));
  if (malformed) throw new InvalidInputError('migration file name must be NNNN_snake_case.sql', { malformed });

  return Promise.all(names.map(async (name) => toMigration(name, await readFile(join(directory, name), 'utf8'))));
}

export function defaultMigrationsDirectory(): string {
  let folder = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(folder, 'package.json'))) {
    const parent = dirname(folder);
    if (parent === folder) throw new Error('no package.json above the migrator module');
    folder = parent;
  }

  return join(folder, 'migrations');
}

function toMigration(name: string, text: string): Migration {
  const sql = text.replace(/\r\n/g, '\n');

  return { name, sql, checksum: createHash('sha256').update(sql).digest('hex') };
}

async function applyOnce(db: Database, migration: Migration): Promise<boolean> {
  return db.transaction(async (tx) => {
    await lockMigrations(db, tx);
    const applied = await tx.query('SELECT 1 FROM schema_migrations WHERE name = $1', [migration.name]);
    if (applied.rows.length > 0) return false;

    await tx.query(migration.sql);
    await tx.query(INSERT_APPLIED, [migration.name, migration.checksum]);

    return true;
  });
}

async function lockMigrations(db: Database, tx: Queryable): Promise<void> {
  if (db.kind === 'postgres') await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
}

async function prepareLedger(tx: Queryable, schema: string | null): Promise<void> {
  if (schema !== null) await tx.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(schema)}`);
  await tx.query(CREATE_LEDGER);
}

async function readApplied(db: Queryable): Promise<AppliedRow[]> {
  return (await db.query<AppliedRow>(SELECT_APPLIED)).rows;
}

function verifyChecksums(migrations: Migration[], applied: AppliedRow[]): void {
  const byName = new Map(migrations.map((m) => [m.name, m]));
  for (const row of applied) {
    const file = byName.get(row.name);
    // TODO: an applied migration whose file is gone is tolerated (an older build on a newer database);
    // refuse it once there is a supported downgrade story.
    if (!file || file.checksum === row.checksum) continue;

    throw new ConflictError('an applied migration file was changed', { migration: row.name, applied: row.checksum });
  }
}

function schemaOf(db: Database): string | null {
  return db instanceof PgDatabase ? db.schema : null;
}
