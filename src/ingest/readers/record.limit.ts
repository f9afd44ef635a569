/**
 * The per-record size limit shared by the readers. A record's size is its bytes in the body: the
 * text of one JSON value (an array element, a Results row, a records element or a top-level value),
 * one NDJSON line or one CSV row, without the line break that ends it (LF or CRLF), a BOM or a
 * JSON-seq record separator. Readers check it while scanning, so no record is buffered much beyond it.
 */
import { PayloadTooLargeError } from '../../common/domain.errors.js';

export const DEFAULT_MAX_RECORD_BYTES = 4 * 1024 * 1024;

/** Where the oversized value starts: the 0-based position the record would get, and its 1-based line. */
export interface RecordSpot {
  /** Absent for what is not a record: a CSV header, a member of an envelope beside its records. */
  record?: number;
  line: number;
  /** What the value is when it is not a record, e.g. "the CSV header". */
  what?: string;
}

export function recordTooLarge(limitBytes: number, spot: RecordSpot): PayloadTooLargeError {
  const named = spot.record === undefined ? (spot.what ?? 'a value') : `record ${spot.record}`;
  const message = `${named} (line ${spot.line}) exceeds the ${limitBytes}-byte record limit (INGEST_MAX_RECORD_BYTES)`;
  const details: Record<string, unknown> = { limitBytes, line: spot.line };
  if (spot.record !== undefined) details.record = spot.record;

  return new PayloadTooLargeError(message, details);
}
