/**
 * The storage seam. Two implementations run the same SQL: `PgDatabase` (a `pg` pool, COPY FROM
 * STDIN) and `PgliteDatabase` (embedded PGlite in-process, serialized access, COPY from a blob).
 * Services never see either; repositories take a `Database` (or the `Queryable` of a transaction).
 */
export interface QueryResult<Row> {
  rows: Row[];
  rowCount: number;
}

export interface Queryable {
  query<Row = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<QueryResult<Row>>;

  /**
   * Bulk-load rows with `COPY table (columns) FROM STDIN (FORMAT csv)`. `csv` is the complete
   * CSV text (no header); build it with `toCsvLine` so quoting and NULLs are right.
   */
  copyCsv(table: string, columns: readonly string[], csv: string): Promise<void>;
}

export interface Database extends Queryable {
  readonly kind: 'postgres' | 'pglite';

  /** Run `work` in one transaction on one connection; rolls back when it throws. */
  transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T>;

  close(): Promise<void>;
}

export const DATABASE = Symbol('DATABASE');
