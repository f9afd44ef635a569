/**
 * Event identity inside (table, deviceId). With a ReportId: `r:<canonical timestamp>:<reportId>`. Without one:
 * `h:<sha256 hex>` of the canonical content, so the same event exported as CSV, JSON or NDJSON gets one key.
 */
import { createHash } from 'node:crypto';

import { ColumnKind, COLUMN_KINDS } from './mde.columns.js';
import {
  isAbsent,
  isIntegerText,
  parseDynamic,
  parseLong,
  parseTimestamp,
  stripUnionSuffixes,
  type Row,
} from './normalize.js';

const PROTO = '__proto__';
let lastKeys: string[] = [];
let lastSorted: string[] = [];

export function reportEventKey(timestamp: string, reportId: string): string {
  return `r:${timestamp}:${reportId}`;
}

/** `h:` + sha256 of `canonicalContent(row)`. */
export function contentEventKey(row: Row): string {
  return `h:${createHash('sha256').update(canonicalContent(row)).digest('hex')}`;
}

/** The key of one advanced-hunting row (the row, not a streaming envelope). Throws on a bad Timestamp/ReportId. */
export function eventKey(row: Row): string {
  const plain = stripUnionSuffixes(row);
  const timestamp = parseTimestamp(plain.Timestamp, 'Timestamp');
  const reportId = parseLong(plain.ReportId, 'ReportId');

  return timestamp !== null && reportId !== null ? reportEventKey(timestamp, reportId) : contentEventKey(plain);
}

/**
 * The row as JSON text with keys sorted at every depth: union suffixes folded, absent values dropped (a CSV
 * `""`, a JSON `null` and a missing key are the same), known numeric / time / boolean / dynamic columns
 * canonicalised so that CSV text and JSON values agree. Written by one JSON.stringify of a key-sorted copy:
 * inside objects, integer-like keys come first in numeric order, as JavaScript enumerates them; that order is
 * as deterministic as a sort. `__proto__` keys are left out.
 */
export function canonicalContent(row: Row): string {
  return JSON.stringify(canonicalRow(row));
}

/** The canonical copy of a row that `canonicalContent` serialises. */
export function canonicalRow(row: Row): Row {
  const plain = stripUnionSuffixes(row);
  const out: Row = {};
  for (const key of sortedKeys(plain)) {
    const value = key === PROTO ? undefined : canonicalColumnValue(key, plain[key]);
    if (value !== undefined) out[key] = sortKeysDeep(value);
  }

  return out;
}

/**
 * Keys in sorted order. Rows of one body share their column order (a CSV header, one exporter), so the last
 * order is remembered and reused when the next row has the same keys in the same order.
 */
function sortedKeys(row: Row): string[] {
  const keys = Object.keys(row);
  if (!sameKeys(keys, lastKeys)) {
    lastKeys = keys;
    lastSorted = [...keys].sort();
  }

  return lastSorted;
}

function sameKeys(a: string[], b: string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;

  return true;
}

/** The value hashed for one column, or undefined when the column is absent. */
export function canonicalColumnValue(column: string, value: unknown): unknown {
  if (isAbsent(value)) return undefined;

  switch (COLUMN_KINDS.get(column)) {
    case ColumnKind.Integer:
      return canonicalInteger(value);
    case ColumnKind.Time:
      return canonicalTime(column, value);
    case ColumnKind.Boolean:
      return canonicalBoolean(value);
    case ColumnKind.Dynamic:
      return parseDynamic(value);
    default:
      return value;
  }
}

function canonicalInteger(value: unknown): unknown {
  if (typeof value !== 'string' || !isIntegerText(value)) return value;
  const parsed = Number(value);

  return Number.isSafeInteger(parsed) ? parsed : value;
}

/** A bad time is hashed as given: the mapper reports it for typed columns; the key must not throw for others. */
function canonicalTime(column: string, value: unknown): unknown {
  try {
    return parseTimestamp(value, column);
  } catch {
    return value;
  }
}

function canonicalBoolean(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const lower = value.toLowerCase();
  if (lower === 'true') return true;

  return lower === 'false' ? false : value;
}

/** A copy of a JSON value with object keys inserted in sorted order, at every depth. */
export function sortKeysDeep(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(sortKeysDeep);
  const record = value as Row;
  const out: Row = {};
  for (const key of Object.keys(record).sort()) {
    if (key !== PROTO) out[key] = sortKeysDeep(record[key]);
  }

  return out;
}
