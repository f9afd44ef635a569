/**
 * The one place every statement passes through: it times the call, reports it to an optional observer
 * and logs slow ones. Only the SQL text is reported (statements are parameterised, COPY is labelled by
 * table), never parameters or CSV payloads.
 */
export interface DatabaseLogger {
  warning(msg: string, fields: Record<string, unknown>): void;
}

export interface DatabaseOptions {
  logger?: DatabaseLogger;
  /** Called after every statement, successful or not (`rowCount` is -1 when it failed). */
  onQuery?(sql: string, durationMs: number, rowCount: number): void;
  /** Statements slower than this are logged as warnings; 500 ms by default. */
  slowQueryMs?: number;
}

const DEFAULT_SLOW_QUERY_MS = 500;
const LOGGED_SQL_CHARS = 300;

export class QueryTimer {
  private readonly slowQueryMs: number;

  constructor(private readonly options: DatabaseOptions = {}) {
    this.slowQueryMs = options.slowQueryMs ?? DEFAULT_SLOW_QUERY_MS;
  }

  async time<T>(sql: string, run: () => Promise<T>, countRows: (result: T) => number): Promise<T> {
    const started = performance.now();
    let rowCount = -1;
    try {
      const result = await run();
      rowCount = countRows(result);

      return result;
    } finally {
      this.report(sql, performance.now() - started, rowCount);
    }
  }

  private report(sql: string, durationMs: number, rowCount: number): void {
    this.options.onQuery?.(sql, durationMs, rowCount);
    if (durationMs <= this.slowQueryMs || !this.options.logger) return;

    const fields = { sql: sql.slice(0, LOGGED_SQL_CHARS), durationMs: Math.round(durationMs), rowCount };
    this.options.logger.warning('slow query', fields);
  }
}
