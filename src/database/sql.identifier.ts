import { InvalidInputError } from '../common/domain.errors.js';

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/** A lower-case SQL identifier (schema, table, column) checked and double-quoted. */
export function quoteIdentifier(name: string): string {
  if (!IDENTIFIER.test(name)) {
    throw new InvalidInputError('not a valid lower-case SQL identifier', { identifier: name });
  }

  return `"${name}"`;
}

export function copyFromSql(table: string, columns: readonly string[], source: string): string {
  const columnList = columns.map(quoteIdentifier).join(', ');

  return `COPY ${quoteIdentifier(table)} (${columnList}) FROM ${source} (FORMAT csv)`;
}
