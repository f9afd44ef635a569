import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../../src/common/domain.errors.js';
import { openDatabase } from '../../../src/database/database.factory.js';
import type { Database } from '../../../src/database/database.js';
import { PgDatabase } from '../../../src/database/pg.database.js';
import { createTestDatabase, type TestDatabase } from '../../support/test-database.js';

let testDb: TestDatabase;

beforeAll(async () => {
  testDb = await createTestDatabase();
  await testDb.db.query('CREATE TABLE probe (id int PRIMARY KEY, note text)');
});

afterAll(async () => {
  await testDb?.cleanup();
});

async function count(db: Database = testDb.db): Promise<number> {
  return Number((await db.query<{ n: string | number }>('SELECT count(*) AS n FROM probe')).rows[0].n);
}

describe('Database.transaction', () => {
  it('commits what the work wrote and returns its result', async () => {
    const result = await testDb.db.transaction(async (tx) => {
      await tx.query('INSERT INTO probe VALUES ($1, $2)', [1, 'one']);
      await tx.copyCsv('probe', ['id', 'note'], '2,"two"\n');

      return 'done';
    });

    expect(result).toBe('done');
    expect(await count()).toBe(2);
  });

  it('rolls back statements and COPY when the work throws', async () => {
    const failing = testDb.db.transaction(async (tx) => {
      await tx.query('INSERT INTO probe VALUES ($1, $2)', [10, 'ten']);
      await tx.copyCsv('probe', ['id', 'note'], '11,"eleven"\n');
      throw new Error('work failed');
    });

    await expect(failing).rejects.toThrow('work failed');
    expect(await count()).toBe(2);
  });

  it('rolls back when a statement fails and leaves the database usable', async () => {
    const failing = testDb.db.transaction(async (tx) => {
      await tx.query('INSERT INTO probe VALUES ($1, $2)', [20, 'twenty']);
      await tx.query('INSERT INTO probe VALUES ($1, $2)', [1, 'duplicate key']);
    });

    await expect(failing).rejects.toMatchObject({ code: '23505' });
    expect(await count()).toBe(2);
  });

  it('reports a failed COPY with its SQLSTATE and keeps working', async () => {
    await expect(testDb.db.copyCsv('probe', ['id', 'note'], '1,"again"\n')).rejects.toMatchObject({ code: '23505' });

    expect(await count()).toBe(2);
  });

  it('refuses table and column names that are not plain identifiers', async () => {
    await expect(testDb.db.copyCsv('probe; drop table probe', ['id'], '')).rejects.toBeInstanceOf(InvalidInputError);
    await expect(testDb.db.copyCsv('probe', ['id"'], '')).rejects.toBeInstanceOf(InvalidInputError);
  });

  it.runIf(!process.env.DATABASE_URL)('on PGlite, lets no other statement interleave with a transaction', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const tx = testDb.db.transaction(async (t) => {
      await t.query('INSERT INTO probe VALUES ($1, $2)', [30, 'thirty']);
      await gate;
    });
    const outside = count();
    setTimeout(release, 50);

    await tx;
    expect(await outside).toBe(3);
  });
});

describe('statement timing', () => {
  it('reports every statement to onQuery and logs the slow ones without parameters', async () => {
    const seen: Array<{ sql: string; rowCount: number }> = [];
    const warnings: Array<Record<string, unknown>> = [];
    const db = await openDatabase({
      ...testDb.config,
      onQuery: (sql, durationMs, rowCount) => {
        expect(durationMs).toBeGreaterThanOrEqual(0);
        seen.push({ sql, rowCount });
      },
      logger: { warning: (_msg, fields) => warnings.push(fields) },
    });
    try {
      await db.query('SELECT $1::text AS secret', ['payload-value']);
      await db.query('SELECT pg_sleep(0.6)');
    } finally {
      await db.close();
    }

    expect(seen).toEqual([
      { sql: 'SELECT $1::text AS secret', rowCount: 1 },
      { sql: 'SELECT pg_sleep(0.6)', rowCount: 1 },
    ]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ sql: 'SELECT pg_sleep(0.6)', rowCount: 1 });
    expect(JSON.stringify(warnings)).not.toContain('payload-value');
  });
});

describe('openDatabase', () => {
  it.runIf(process.env.DATABASE_URL)('puts every connection of a schema-bound pool on that schema', async () => {
    const results = await Promise.all(
      [1, 2, 3, 4, 5].map(() => testDb.db.query<{ s: string }>('SELECT current_schema() AS s, pg_sleep(0.05)')),
    );

    expect(new Set(results.map((r) => r.rows[0].s))).toEqual(new Set([testDb.config.databaseSchema]));
    expect(testDb.db.kind).toBe('postgres');
  });

  it('refuses a schema name that is not an identifier', () => {
    const open = () => new PgDatabase({ databaseUrl: 'postgres://127.0.0.1:1/none', schema: 'x; drop' });

    expect(open).toThrow(InvalidInputError);
  });

  it.runIf(!process.env.DATABASE_URL)('opens PGlite in a folder it creates and finds the data again', async () => {
    const parent = await mkdtemp(join(tmpdir(), 'pglite-'));
    const dataDir = join(parent, 'nested', 'data');
    try {
      const first = await openDatabase({ databaseUrl: null, dataDir, databaseSchema: null });
      await first.query('CREATE TABLE kept (v text)');
      await first.query('INSERT INTO kept VALUES ($1)', ['still here']);
      await first.close();

      const second = await openDatabase({ databaseUrl: null, dataDir, databaseSchema: null });
      const rows = await second.query('SELECT v FROM kept');
      await second.close();

      expect(first.kind).toBe('pglite');
      expect(rows.rows).toEqual([{ v: 'still here' }]);
    } finally {
      await rm(parent, { recursive: true, force: true });
    }
  });
});
