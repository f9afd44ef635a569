/**
 * Small pure normalisers for advanced-hunting values. Every real-world quirk of MDE exports is handled here,
 * once: union suffixes, empty strings, numbers given as text, timestamps with 0 to 7 fractional digits or an
 * offset, and `AdditionalFields` as JSON text. A bad value throws `InvalidInputError` with `details.field`;
 * the mapper turns it into a `RecordError` for the record.
 */
import { InvalidInputError } from '../../common/domain.errors.js';
import { UNION_SUFFIXES } from './mde.columns.js';

export type Row = Record<string, unknown>;

const INTEGER_TEXT = /^-?\d+$/;
const ISO_TIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,7}))?(Z|[+-]\d{2}:?\d{2})?$/i;
const PORTAL_TIME = /^(\d{1,2})\/(\d{1,2})\/(\d{4}),? (\d{1,2}):(\d{2}):(\d{2})(?:\.(\d{1,7}))? ?([AP]M)$/i;
const IP_LIKE = /^(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9a-f.]*:[0-9a-f.]*:[0-9a-f.:]*(?:%[\w.-]+)?)$/i;
const CANONICAL_TIME_LENGTH = 28;
const MAX_PORT = 65_535;

/** Decimal integer text: an optional minus sign and digits only. */
export function isIntegerText(text: string): boolean {
  return INTEGER_TEXT.test(text);
}

export function fieldError(field: string, message: string): InvalidInputError {
  return new InvalidInputError(message, { field });
}

/** `null`, `undefined`, `""` and whitespace-only strings all mean "absent". */
export function isAbsent(value: unknown): boolean {
  if (value === null || value === undefined) return true;
  if (typeof value !== 'string') return false;

  const first = value.charCodeAt(0);

  return value.length === 0 || ((first <= 32 || first >= 0x80) && value.trim().length === 0);
}

/** The unsuffixed column name of a KQL union column (`ReportId_long` → `ReportId`), or null. */
export function unionBaseName(key: string): string | null {
  const cut = key.lastIndexOf('_');
  if (cut <= 0 || !UNION_SUFFIXES.has(key.slice(cut + 1))) return null;

  return key.slice(0, cut);
}

/**
 * Folds union-suffixed columns into their plain name: the plain column wins when it holds a value, else the
 * first suffixed variant (in key order) that holds one. Returns the row itself when nothing is suffixed.
 */
export function stripUnionSuffixes(row: Row): Row {
  if (!hasUnionColumn(row)) return row;

  const out: Row = {};
  for (const key of Object.keys(row)) {
    foldColumn(out, unionBaseName(key), key, row[key]);
  }

  return out;
}

/** The hot-path check: most rows have no `_` in any key, so no copy is made (Object.keys beats for-in here). */
function hasUnionColumn(row: Row): boolean {
  const keys = Object.keys(row);
  for (let i = 0; i < keys.length; i++) {
    if (keys[i].indexOf('_') > 0 && unionBaseName(keys[i]) !== null) return true;
  }

  return false;
}

/** `__proto__` is never an MDE column; dropping it keeps the copy a plain object. */
function foldColumn(out: Row, base: string | null, key: string, value: unknown): void {
  const name = base ?? key;
  if (name === '__proto__') return;
  const taken = Object.hasOwn(out, name) && !isAbsent(out[name]);
  if (base === null && !isAbsent(value)) {
    out[name] = value;
  } else if (!taken) {
    out[name] = isAbsent(value) ? null : value;
  }
}

/** A text column: kept exactly (no trimming); absent → null; numbers and booleans are written as text. */
export function readString(value: unknown, field: string): string | null {
  if (isAbsent(value)) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);

  throw fieldError(field, `${field} must be a string`);
}

export function readRequiredString(value: unknown, field: string): string {
  const text = readString(value, field);
  if (text === null) throw fieldError(field, `${field} is required`);

  return text;
}

/** An integer given as a number or as decimal text (`"4180"`; `"4180.0"` is refused). Absent → null. */
export function parseInteger(value: unknown, field: string): number | null {
  if (isAbsent(value)) return null;
  let parsed = Number.NaN;
  if (typeof value === 'number') parsed = value;
  else if (typeof value === 'string' && INTEGER_TEXT.test(value)) parsed = Number(value);
  if (!Number.isSafeInteger(parsed)) throw fieldError(field, `${field} must be an integer`);

  return parsed;
}

export function parsePort(value: unknown, field: string): number | null {
  const port = parseInteger(value, field);
  if (port !== null && (port < 0 || port > MAX_PORT)) {
    throw fieldError(field, `${field} must be a port number between 0 and ${MAX_PORT}`);
  }

  return port;
}

export function parseProcessId(value: unknown, field: string): number | null {
  const pid = parseInteger(value, field);
  if (pid !== null && pid < 0) throw fieldError(field, `${field} must be a process id (an integer >= 0)`);

  return pid;
}

/**
 * A `long` id (ReportId, ProcessUniqueId) as canonical decimal text: ReportId can exceed 2^31, and text can
 * carry more than 2^53. Leading zeros are dropped. Absent → null.
 */
export function parseLong(value: unknown, field: string): string | null {
  if (isAbsent(value)) return null;
  if (typeof value === 'number' && Number.isInteger(value)) {
    if (Number.isSafeInteger(value)) return String(value);
    throw fieldError(field, `${field} is beyond 2^53 as a JSON number and lost its exact value; send it as a string`);
  }
  if (typeof value !== 'string' || !INTEGER_TEXT.test(value)) throw fieldError(field, `${field} must be an integer`);

  return needsBigIntForm(value) ? BigInt(value).toString() : value;
}

/** A sign or a leading zero (`-0`, `007`): rewrite through BigInt; plain digits are already canonical. */
function needsBigIntForm(digits: string): boolean {
  const first = digits.charCodeAt(0);

  return digits.length > 1 && (first === 45 || first === 48);
}

/** An IP address column: text that does not look like an IPv4/IPv6 address (MDE writes `-`) → null. */
export function readIpAddress(value: unknown, field: string): string | null {
  const text = readString(value, field);
  if (text === null || !IP_LIKE.test(text)) return null;

  return text;
}

/** A `dynamic` column: JSON text that parses to an object or array becomes that value; other text stays text. */
export function parseDynamic(value: unknown): unknown {
  if (isAbsent(value)) return null;
  if (typeof value !== 'string') return value;
  const first = value.trimStart().charCodeAt(0);
  if (first !== 123 && first !== 91) return value;

  try {
    const parsed: unknown = JSON.parse(value);
    return parsed !== null && typeof parsed === 'object' ? parsed : value;
  } catch {
    return value;
  }
}

interface TimeParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  fraction: string;
  offsetMinutes: number;
}

/**
 * A timestamp as canonical UTC `YYYY-MM-DDTHH:MM:SS.fffffffZ` (exactly seven fractional digits). Accepts ISO
 * 8601 with 0 to 7 fractional digits, `T` or space, and `Z`, an offset or no zone (UTC). Also the portal's
 * `M/D/YYYY h:mm:ss.fff AM|PM`, read as UTC (the portal's default display zone). Absent → null.
 */
export function parseTimestamp(value: unknown, field: string): string | null {
  if (isAbsent(value)) return null;
  if (typeof value !== 'string') throw fieldError(field, `${field} must be an ISO 8601 timestamp string`);
  const parts = matchIsoTime(value) ?? matchPortalTime(value);
  if (parts === null || !isValidTime(parts)) throw fieldError(field, `${field} is not a valid ISO 8601 timestamp`);

  const canonical =
    parts.offsetMinutes === 0
      ? isCanonicalTime(value)
        ? value
        : formatTime(parts)
      : formatTime(shiftToUtc(parts, field));
  if (canonical.startsWith('0000')) throw fieldError(field, `${field} is before the year 1`);

  return canonical;
}

/** A required timestamp (e.g. a query parameter) in canonical form; absent or invalid throws InvalidInputError. */
export function canonicalTimestamp(value: string, field = 'timestamp'): string {
  const canonical = parseTimestamp(value, field);
  if (canonical === null) throw fieldError(field, `${field} is required`);

  return canonical;
}

function isCanonicalTime(value: string): boolean {
  return value.length === CANONICAL_TIME_LENGTH && value.charCodeAt(10) === 84 && value.charCodeAt(27) === 90;
}

function matchIsoTime(value: string): TimeParts | null {
  const m = ISO_TIME.exec(value);
  if (m === null) return null;

  return {
    year: Number(m[1]),
    month: Number(m[2]),
    day: Number(m[3]),
    hour: Number(m[4]),
    minute: Number(m[5]),
    second: Number(m[6]),
    fraction: m[7] ?? '',
    offsetMinutes: parseOffset(m[8]),
  };
}

/** Minutes east of UTC; NaN for an offset out of range (rejected by isValidTime). */
function parseOffset(zone: string | undefined): number {
  if (zone === undefined || zone.length === 1) return 0;
  const digits = zone.length === 6 ? zone.slice(1, 3) + zone.slice(4) : zone.slice(1);
  const hours = Number(digits.slice(0, 2));
  const minutes = Number(digits.slice(2));
  if (hours > 23 || minutes > 59) return Number.NaN;

  return (zone.charCodeAt(0) === 45 ? -1 : 1) * (hours * 60 + minutes);
}

// TODO: the portal display form is read as month/day/year in UTC, the portal's defaults; an export made with
// another display zone or locale would need that zone passed in. No real export in that form was seen yet.
function matchPortalTime(value: string): TimeParts | null {
  const m = PORTAL_TIME.exec(value);
  if (m === null) return null;
  const hour12 = Number(m[4]);
  if (hour12 < 1 || hour12 > 12) return null;
  const pm = m[8].toUpperCase() === 'PM';

  return {
    year: Number(m[3]),
    month: Number(m[1]),
    day: Number(m[2]),
    hour: (hour12 % 12) + (pm ? 12 : 0),
    minute: Number(m[5]),
    second: Number(m[6]),
    fraction: m[7] ?? '',
    offsetMinutes: 0,
  };
}

function isValidTime(p: TimeParts): boolean {
  if (Number.isNaN(p.offsetMinutes) || p.month < 1 || p.month > 12) return false;
  if (p.day < 1 || p.day > daysInMonth(p.year, p.month)) return false;

  return p.hour <= 23 && p.minute <= 59 && p.second <= 59;
}

function daysInMonth(year: number, month: number): number {
  if (month !== 2) return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;

  return leap ? 29 : 28;
}

/** Moves whole seconds by the offset with Date arithmetic; the fraction digits are carried over untouched. */
function shiftToUtc(p: TimeParts, field: string): TimeParts {
  const date = new Date(0);
  date.setUTCFullYear(p.year, p.month - 1, p.day);
  date.setUTCHours(p.hour, p.minute - p.offsetMinutes, p.second, 0);
  const year = date.getUTCFullYear();
  if (year < 0 || year > 9999) throw fieldError(field, `${field} is out of range after conversion to UTC`);

  return {
    year,
    month: date.getUTCMonth() + 1,
    day: date.getUTCDate(),
    hour: date.getUTCHours(),
    minute: date.getUTCMinutes(),
    second: date.getUTCSeconds(),
    fraction: p.fraction,
    offsetMinutes: 0,
  };
}

function formatTime(p: TimeParts): string {
  const date = `${String(p.year).padStart(4, '0')}-${pad2(p.month)}-${pad2(p.day)}`;

  return `${date}T${pad2(p.hour)}:${pad2(p.minute)}:${pad2(p.second)}.${p.fraction.padEnd(7, '0')}Z`;
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}
