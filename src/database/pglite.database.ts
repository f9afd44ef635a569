import { mkdir } from 'node:fs/promises';
import { PGlite, type Results, type Transaction } from '@electric-sql/pglite';
import type { Database, Queryable, QueryResult } from './database.js';
import { QueryTimer, type DatabaseOptions } from './query.timer.js';
import { copyFromSql } from './sql.identifier.js';
import { DataDirLock } from './data-dir.lock.js';

export interface PgliteDatabaseConfig extends DatabaseOptions {
  /** A folder (created when missing) or `memory://` for a throw-away database. */
  dataDir: string;
}

const MEMORY_PREFIX = 'memory://';

type Session = PGlite | Transaction;

/**
 * Embedded PostgreSQL (PGlite) in this process. PGlite is one backend: its own locks serialize every
 * statement, and a transaction holds them until it ends, so no other statement interleaves with it.
 * Bulk loads read the CSV from PGlite's `/dev/blob` device.
 */
export class PgliteDatabase implements Database {
  readonly kind = 'pglite' as const;

  private constructor(
    private readonly pglite: PGlite,
    private readonly timer: QueryTimer,
    private readonly lock: DataDirLock | null,
  ) {}

  static async open(config: PgliteDatabaseConfig): Promise<PgliteDatabase> {
    if (config.dataDir.startsWith(MEMORY_PREFIX)) {
      return new PgliteDatabase(await PGlite.create({ dataDir: config.dataDir }), new QueryTimer(config), null);
    }

    await mkdir(config.dataDir, { recursive: true });
    const lock = await DataDirLock.acquire(config.dataDir);
    const pglite = await PGlite.create({ dataDir: config.dataDir }).catch(async (error: unknown) => {
      await lock.release();
      throw error;
    });
    return new PgliteDatabase(pglite, new QueryTimer(config), lock);
  }

  query<Row = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<QueryResult<Row>> {
    return runQuery<Row>(this.timer, this.pglite, sql, params);
  }

  copyCsv(table: string, columns: readonly string[], csv: string): Promise<void> {
    return runCopy(this.timer, this.pglite, table, columns, csv);
  }

  transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.pglite.transaction((session) => {
      const tx: Queryable = {
        query: (sql, params) => runQuery(this.timer, session, sql, params),
        copyCsv: (table, columns, csv) => runCopy(this.timer, session, table, columns, csv),
      };

      return work(tx);
    });
  }

  async close(): Promise<void> {
    if (!this.pglite.closed) await this.pglite.close();
    await this.lock?.release();
  }
}

/**
 * Like `pg`: a statement without parameters runs on the simple protocol (several statements allowed,
 * the last one's result is returned); with parameters it is one prepared statement.
 */
async function runQuery<Row>(timer: QueryTimer, session: Session, sql: string, params?: unknown[]) {
  const result = await timer.time(
    sql,
    async (): Promise<Results<Row>> => {
      if (params === undefined || params.length === 0) return lastResult(await session.exec(sql)) as Results<Row>;

      return session.query<Row>(sql, params);
    },
    countRows,
  );

  return { rows: result.rows, rowCount: countRows(result) };
}

async function runCopy(timer: QueryTimer, session: Session, table: string, columns: readonly string[], csv: string) {
  const sql = copyFromSql(table, columns, `'/dev/blob'`);
  await timer.time(sql, () => session.query(sql, [], { blob: new Blob([csv]) }), countRows);
}

function lastResult(results: Results[]): Results {
  return results[results.length - 1] ?? { rows: [], fields: [] };
}

function countRows(result: Results<unknown>): number {
  return result.rowCount ?? result.affectedRows ?? result.rows.length;
}
