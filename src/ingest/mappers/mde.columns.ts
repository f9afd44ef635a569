/**
 * What the mappers know about the types of Microsoft Defender for Endpoint advanced-hunting columns, in one
 * place. Column names follow the advanced-hunting schema (PascalCase, never an underscore of their own).
 */

/** Columns typed `int` or `long` in the tables a union export may mix; canonicalised to numbers for hashing. */
export const MDE_NUMERIC_COLUMNS: ReadonlySet<string> = new Set([
  'ReportId',
  'FileSize',
  'ProcessId',
  'LogonId',
  'ProcessSessionId',
  'CreatedProcessSessionId',
  'InitiatingProcessId',
  'InitiatingProcessParentId',
  'InitiatingProcessFileSize',
  'InitiatingProcessLogonId',
  'InitiatingProcessSessionId',
  'ProcessUniqueId',
  'InitiatingProcessUniqueId',
  'LocalPort',
  'RemotePort',
]);

/** Columns typed `datetime`; canonicalised to seven fractional digits for hashing. */
export const MDE_TIME_COLUMNS: ReadonlySet<string> = new Set([
  'Timestamp',
  'ProcessCreationTime',
  'InitiatingProcessCreationTime',
  'InitiatingProcessParentCreationTime',
]);

/** Columns typed `bool`; a CSV export spells them `true` / `false`. */
export const MDE_BOOLEAN_COLUMNS: ReadonlySet<string> = new Set([
  'IsProcessRemoteSession',
  'IsInitiatingProcessRemoteSession',
]);

/** Columns typed `dynamic` that may arrive as a JSON string (CSV, streaming API) or as an object. */
export const MDE_DYNAMIC_COLUMNS: ReadonlySet<string> = new Set(['AdditionalFields']);

/** Suffixes KQL `union` appends to clashing column names (`ReportId_long`, `AdditionalFields_dynamic`). */
export const UNION_SUFFIXES: ReadonlySet<string> = new Set([
  'long',
  'string',
  'dynamic',
  'datetime',
  'int',
  'real',
  'bool',
  'guid',
  'timespan',
  'decimal',
]);

export const ColumnKind = {
  Integer: 'integer',
  Time: 'time',
  Boolean: 'boolean',
  Dynamic: 'dynamic',
} as const;
export type ColumnKind = (typeof ColumnKind)[keyof typeof ColumnKind];

/** The four sets above as one lookup: column name → how its value is canonicalised. */
export const COLUMN_KINDS: ReadonlyMap<string, ColumnKind> = new Map<string, ColumnKind>([
  ...[...MDE_NUMERIC_COLUMNS].map((column) => [column, ColumnKind.Integer] as const),
  ...[...MDE_TIME_COLUMNS].map((column) => [column, ColumnKind.Time] as const),
  ...[...MDE_BOOLEAN_COLUMNS].map((column) => [column, ColumnKind.Boolean] as const),
  ...[...MDE_DYNAMIC_COLUMNS].map((column) => [column, ColumnKind.Dynamic] as const),
]);
