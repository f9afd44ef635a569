/**
 * Which parts of a parsed JSON value are records. Shared by the JSON and NDJSON readers so both
 * apply the same rules: an object is one record, an array holds records, an object with a `records`
 * array is an Event Hub / streaming-API envelope and an object with a `Results` array is an Advanced
 * Hunting API response whose array rows are zipped with the `Schema` column names.
 */
export type JsonObject = Record<string, unknown>;

/** A record before it gets its position: a value, or an empty value plus what is wrong. */
export interface ShapedRecord {
  value: JsonObject;
  error?: string;
}

/** Called when the body as a whole cannot go on; it throws with the caller's position. */
export type Fail = (message: string) => never;

export const RESULTS_KEY = 'Results';
export const RECORDS_KEY = 'records';
export const SCHEMA_KEY = 'Schema';

export const MISSING_SCHEMA = 'a Results row is a list of values but no Schema with column names comes before Results';
export const INVALID_SCHEMA =
  'a Results row is a list of values but the Schema before Results is not an array of {Name, Type} objects';

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function describeJson(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';

  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** An element of a record array: objects are records, anything else is a broken record. */
export function shapeElement(value: unknown): ShapedRecord {
  if (isJsonObject(value)) return { value };

  return { value: {}, error: `record is ${describeJson(value)}, not an object` };
}

/** Column names and a fast way to build a row object from values in that order. */
export interface Columns {
  readonly names: readonly string[];
  readonly build: (values: readonly unknown[]) => JsonObject;
}

/** Beyond this many columns V8 keeps objects as hash tables anyway: build them with a plain loop. */
const MAX_LITERAL_COLUMNS = 1000;

/**
 * Compiles `(v) => ({ "name0": v[0], "name1": v[1], ... })` once per header. V8 gives objects built by
 * one literal a compact shared shape; assigning 72 computed keys one by one turns every row into a
 * hash table, measured 5-10x slower and dominating garbage collection. Names enter the code only
 * through JSON.stringify (a fully escaped string literal); `__proto__` is written as a computed key
 * so it stays an own property instead of setting the prototype.
 */
export function columnsOf(names: readonly string[]): Columns {
  if (names.length > MAX_LITERAL_COLUMNS) return { names, build: (values) => objectByLoop(names, values) };

  const members = names.map((name, k) => `${name === '__proto__' ? '["__proto__"]' : JSON.stringify(name)}: v[${k}]`);
  const build = new Function('v', `return { ${members.join(', ')} };`) as Columns['build'];

  return { names, build };
}

function objectByLoop(names: readonly string[], values: readonly unknown[]): JsonObject {
  const value: JsonObject = {};
  for (let k = 0; k < names.length; k++) {
    const property = { value: values[k], enumerable: true, writable: true, configurable: true };
    if (names[k] === '__proto__') Object.defineProperty(value, '__proto__', property);
    else value[names[k]] = values[k];
  }

  return value;
}

/** The columns of a Schema, or why array rows cannot be read (no Schema, or not a list of names). */
export type SchemaColumns = Columns | { readonly fault: string };

export const NO_SCHEMA: SchemaColumns = { fault: MISSING_SCHEMA };

/** Columns of an Advanced Hunting `Schema` (`[{"Name":"Timestamp","Type":"DateTime"}, ...]`). */
export function schemaColumns(schema: unknown): SchemaColumns {
  if (schema === undefined) return NO_SCHEMA;
  if (!Array.isArray(schema)) return { fault: INVALID_SCHEMA };

  const names = schema.map((column: unknown) => (isJsonObject(column) ? column.Name : undefined));

  return names.every((name): name is string => typeof name === 'string') ? columnsOf(names) : { fault: INVALID_SCHEMA };
}

/** A `Results` row: an object as is, or a list of values zipped with the Schema column names. */
export function shapeResultRow(row: unknown, columns: SchemaColumns, fail: Fail): ShapedRecord {
  if (!Array.isArray(row)) return shapeElement(row);
  if ('fault' in columns) fail(columns.fault);

  if (row.length !== columns.names.length) {
    return { value: {}, error: `row has ${row.length} values, Schema has ${columns.names.length} columns` };
  }

  return { value: columns.build(row) };
}

/** All records inside one fully parsed value (an NDJSON line). */
export function shapeValue(value: unknown, fail: Fail): ShapedRecord[] {
  if (Array.isArray(value)) return value.map(shapeElement);
  if (!isJsonObject(value)) return [shapeElement(value)];

  const records = value[RECORDS_KEY];
  const results = value[RESULTS_KEY];
  if (Array.isArray(records)) return records.map(shapeElement);
  if (!Array.isArray(results)) return [{ value }];

  const columns = schemaColumns(value[SCHEMA_KEY]);

  return results.map((row: unknown) => shapeResultRow(row, columns, fail));
}
