import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { Database, Queryable, QueryResult } from './database.js';
import { QueryTimer, type DatabaseOptions } from './query.timer.js';
import { copyFromSql, quoteIdentifier } from './sql.identifier.js';

export interface PgDatabaseConfig extends DatabaseOptions {
  databaseUrl: string;
  /** Every connection gets `search_path` = this schema (created by the migrator). */
  schema?: string | null;
  maxConnections?: number;
}

const DEFAULT_MAX_CONNECTIONS = 4;
const COPY_CHUNK_CHARS = 1 << 20;

type Client = pg.Pool | pg.PoolClient;

/** A real PostgreSQL server through a `pg` pool; bulk loads with COPY FROM STDIN. */
export class PgDatabase implements Database {
  readonly kind = 'postgres' as const;
  readonly schema: string | null;
  private readonly pool: pg.Pool;
  private readonly timer: QueryTimer;

  constructor(config: PgDatabaseConfig) {
    this.schema = config.schema ?? null;
    this.timer = new QueryTimer(config);
    this.pool = new pg.Pool({
      connectionString: config.databaseUrl,
      max: config.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
      options: this.schema === null ? undefined : `-c search_path=${quoteIdentifier(this.schema)}`,
    });
    this.pool.on('error', (error) => config.logger?.warning('idle database connection failed', { error }));
  }

  query<Row = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<QueryResult<Row>> {
    return runQuery<Row>(this.timer, this.pool, sql, params);
  }

  async copyCsv(table: string, columns: readonly string[], csv: string): Promise<void> {
    const client = await this.pool.connect();
    try {
      await runCopy(this.timer, client, table, columns, csv);
    } finally {
      client.release();
    }
  }

  async transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      return await runInTransaction(this.timer, client, work, (error) => (broken = error));
    } finally {
      client.release(broken);
    }
  }

  /** Idempotent: the app's shutdown hook and a test's cleanup may both close the same database. */
  async close(): Promise<void> {
    if (this.pool.ended || this.pool.ending) return;

    await this.pool.end();
  }
}

async function runInTransaction<T>(
  timer: QueryTimer,
  client: pg.PoolClient,
  work: (tx: Queryable) => Promise<T>,
  markBroken: (error: Error) => void,
): Promise<T> {
  const tx: Queryable = {
    query: (sql, params) => runQuery(timer, client, sql, params),
    copyCsv: (table, columns, csv) => runCopy(timer, client, table, columns, csv),
  };
  await runQuery(timer, client, 'BEGIN');
  try {
    const result = await work(tx);
    await runQuery(timer, client, 'COMMIT');

    return result;
  } catch (error) {
    await runQuery(timer, client, 'ROLLBACK').catch((rollbackError: Error) => markBroken(rollbackError));
    throw error;
  }
}

async function runQuery<Row>(timer: QueryTimer, client: Client, sql: string, params?: unknown[]) {
  const result = await timer.time(
    sql,
    () => client.query(sql, params) as unknown as Promise<pg.QueryResult | pg.QueryResult[]>,
    (r) => lastResult(r).rowCount ?? 0,
  );
  const last = lastResult(result);

  return { rows: last.rows as Row[], rowCount: last.rowCount ?? last.rows.length };
}

/** A parameterless statement runs on the simple protocol and may hold several statements. */
function lastResult(result: pg.QueryResult | pg.QueryResult[]): pg.QueryResult {
  return Array.isArray(result) ? result[result.length - 1] : result;
}

async function runCopy(
  timer: QueryTimer,
  client: pg.PoolClient,
  table: string,
  columns: readonly string[],
  csv: string,
): Promise<void> {
  const sql = copyFromSql(table, columns, 'STDIN');
  await timer.time(
    sql,
    async () => {
      const stream = client.query(copyFrom(sql));
      await pipeline(Readable.from(chunks(csv)), stream);

      return stream.rowCount;
    },
    (rowCount) => rowCount,
  );
}

function* chunks(text: string): Generator<string> {
  for (let start = 0; start < text.length; start += COPY_CHUNK_CHARS) {
    yield text.slice(start, start + COPY_CHUNK_CHARS);
  }
}
