import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConflictError, InvalidInputError } from '../../../src/common/domain.errors.js';
import { PgDatabase } from '../../../src/database/pg.database.js';
import {
  defaultMigrationsDirectory,
  loadMigrations,
  MIGRATION_FILE_NAME,
  migrationStatus,
  runMigrations,
} from '../../../src/database/migrator.js';
import { createTestDatabase, type TestDatabase } from '../../support/test-database.js';

const open: TestDatabase[] = [];
const folders: string[] = [];

async function emptyDatabase(): Promise<TestDatabase> {
  const testDb = await createTestDatabase({ migrate: false });
  open.push(testDb);

  return testDb;
}

async function folderWith(files: Record<string, string>): Promise<string> {
  const folder = await mkdtemp(join(tmpdir(), 'migrations-'));
  folders.push(folder);
  for (const [name, sql] of Object.entries(files)) await writeFile(join(folder, name), sql);

  return folder;
}

afterEach(async () => {
  for (const testDb of open.splice(0)) await testDb.cleanup();
  for (const folder of folders.splice(0)) await rm(folder, { recursive: true, force: true });
});

describe('migration files', () => {
  it('are all named NNNN_snake_case.sql and numbered without gaps or repeats', async () => {
    const names = (await readdir(defaultMigrationsDirectory())).filter((n) => !n.startsWith('.'));

    expect(names.length).toBeGreaterThan(0);
    for (const name of names) expect(name).toMatch(MIGRATION_FILE_NAME);
    expect(names.map((n) => Number(n.slice(0, 4))).sort((a, b) => a - b)).toEqual(names.map((_, i) => i + 1));
  });
});

describe('runMigrations', () => {
  it('applies every file in order, then a re-run applies nothing', async () => {
    const { db } = await emptyDatabase();
    const files = (await readdir(defaultMigrationsDirectory())).sort();

    const first = await runMigrations(db);
    const second = await runMigrations(db);

    expect(first).toEqual({ applied: files, total: files.length });
    expect(second).toEqual({ applied: [], total: files.length });
    expect(await migrationStatus(db)).toEqual({ applied: files.length, pending: [] });
    const tables = await db.query(
      `SELECT to_regclass('device_events') AS a, to_regclass('device_network_events') AS b`,
    );
    expect(tables.rows[0]).toEqual({ a: 'device_events', b: 'device_network_events' });
  });

  it('reports pending files before the first run', async () => {
    const { db } = await emptyDatabase();
    const files = (await readdir(defaultMigrationsDirectory())).sort();

    expect(await migrationStatus(db)).toEqual({ applied: 0, pending: files });
  });

  it('applies only the new file of a grown folder', async () => {
    const { db } = await emptyDatabase();
    const files = { '0001_one.sql': 'CREATE TABLE one (id int);' };
    await runMigrations(db, { directory: await folderWith(files) });
    const two = 'CREATE TABLE two (id int); CREATE TABLE three (id int);';
    const grown = await folderWith({ ...files, '0002_two.sql': two });

    expect(await migrationStatus(db, { directory: grown })).toEqual({ applied: 1, pending: ['0002_two.sql'] });
    expect(await runMigrations(db, { directory: grown })).toEqual({ applied: ['0002_two.sql'], total: 2 });
  });

  it('refuses to run when an applied file changed, and applies nothing', async () => {
    const { db } = await emptyDatabase();
    await runMigrations(db, { directory: await folderWith({ '0001_one.sql': 'CREATE TABLE one (id int);' }) });
    const changed = await folderWith({
      '0001_one.sql': 'CREATE TABLE one (id bigint);',
      '0002_two.sql': 'CREATE TABLE two (id int);',
    });

    await expect(runMigrations(db, { directory: changed })).rejects.toBeInstanceOf(ConflictError);

    expect(await migrationStatus(db, { directory: changed })).toEqual({ applied: 1, pending: ['0002_two.sql'] });
  });

  it('treats CRLF line endings as the same file', async () => {
    const { db } = await emptyDatabase();
    await runMigrations(db, { directory: await folderWith({ '0001_one.sql': 'CREATE TABLE one (id int);\n' }) });
    const crlf = await folderWith({ '0001_one.sql': 'CREATE TABLE one (id int);\r\n' });

    expect(await runMigrations(db, { directory: crlf })).toEqual({ applied: [], total: 1 });
  });

  it('rolls a failing file back and does not record it', async () => {
    const { db } = await emptyDatabase();
    const folder = await folderWith({ '0001_bad.sql': 'CREATE TABLE half (id int); SELECT no_such_function();' });

    await expect(runMigrations(db, { directory: folder })).rejects.toThrow(/no_such_function/);

    expect(await migrationStatus(db, { directory: folder })).toEqual({ applied: 0, pending: ['0001_bad.sql'] });
    expect((await db.query(`SELECT to_regclass('half') AS t`)).rows[0]).toEqual({ t: null });
  });

  it('rejects a folder holding a badly named file', async () => {
    const folder = await folderWith({ '0001_one.sql': 'SELECT 1;', '2-Two.sql': 'SELECT 1;' });

    await expect(loadMigrations(folder)).rejects.toBeInstanceOf(InvalidInputError);
  });

  it.runIf(process.env.DATABASE_URL)('applies each file once when two processes start at the same time', async () => {
    const { config } = await emptyDatabase();
    const url = config.databaseUrl!;
    const a = new PgDatabase({ databaseUrl: url, schema: config.databaseSchema });
    const b = new PgDatabase({ databaseUrl: url, schema: config.databaseSchema });
    try {
      const [ra, rb] = await Promise.all([runMigrations(a), runMigrations(b)]);

      expect([...ra.applied, ...rb.applied].sort()).toEqual((await readdir(defaultMigrationsDirectory())).sort());
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});
