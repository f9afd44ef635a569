/**
 * NDJSON / JSON Lines / JSON text sequences: one JSON value per non-blank line (LF or CRLF; a
 * leading RS of RFC 7464 is dropped). Lines are split on Buffers with indexOf and decoded once whole,
 * so multi-byte characters split across chunks stay intact. Each line follows the record rules of
 * record.shapes.ts: an object is a record, an envelope or AH response yields its rows, an array its
 * elements. A line longer than the record limit is refused as soon as that many bytes of it arrived.
 */
import { BodyParseError } from '../../common/domain.errors.js';
import { faultMessage, locateJsonFault, placeWithin } from './json-fault.locator.js';
import { exactTextOf } from './exact-json.js';
import { DEFAULT_MAX_RECORD_BYTES, recordTooLarge } from './record.limit.js';
import { isJsonObject, RECORDS_KEY, RESULTS_KEY, shapeValue, type ShapedRecord } from './record.shapes.js';
import type { SourceRecord } from './record.types.js';
import { NL } from './byte.codes.js';

const CR = 0x0d;
const RS = 0x1e;
/** Bytes of a line that are not part of its record: a BOM (line 1), a JSON-seq RS and the CR of a CRLF. */
const LINE_EXTRA_BYTES = 5;

export async function* readNdjsonRecords(
  body: AsyncIterable<Buffer>,
  maxRecordBytes = DEFAULT_MAX_RECORD_BYTES,
): AsyncGenerator<SourceRecord[]> {
  const reader = new NdjsonLineReader(maxRecordBytes);
  for await (const chunk of body) {
    const records = reader.feed(chunk);
    if (records.length > 0) yield records;
  }

  const last = reader.end();
  if (last.length > 0) yield last;
}

/** Feed chunks in order, then call `end()`; each call returns the records of the lines it completed. */
export class NdjsonLineReader {
  /** Bytes of the unfinished line, split over earlier chunks. */
  private carry: Buffer[] = [];
  private carryBytes = 0;
  /** Absolute byte offset where the unfinished line starts. */
  private lineOffset = 0;
  private line = 0;
  private position = 0;
  private out: SourceRecord[] = [];

  constructor(private readonly maxRecordBytes = DEFAULT_MAX_RECORD_BYTES) {}

  feed(chunk: Buffer): SourceRecord[] {
    this.out = [];
    let start = 0;
    for (let nl = chunk.indexOf(NL); nl >= 0; nl = chunk.indexOf(NL, start)) {
      this.completeLine(chunk, start, nl);
      start = nl + 1;
    }
    if (start < chunk.length) this.carryOver(start === 0 ? chunk : chunk.subarray(start));

    return this.out;
  }

  end(): SourceRecord[] {
    this.out = [];
    if (this.carry.length > 0) this.completeLine(Buffer.alloc(0), 0, 0);

    return this.out;
  }

  /** Keeps the start of an unfinished line, refusing it once it is sure to pass the record limit. */
  private carryOver(bytes: Buffer): void {
    this.carryBytes += bytes.length;
    if (this.carryBytes > this.maxRecordBytes + LINE_EXTRA_BYTES) throw this.tooLarge(this.line + 1);

    this.carry.push(bytes);
  }

  private completeLine(chunk: Buffer, start: number, end: number): void {
    if (this.carry.length === 0) {
      this.takeLine(chunk, start, end);
      this.lineOffset += end - start + 1;

      return;
    }

    const whole = Buffer.concat([...this.carry, chunk.subarray(start, end)]);
    this.carry = [];
    this.carryBytes = 0;
    this.takeLine(whole, 0, whole.length);
    this.lineOffset += whole.length + 1;
  }

  private takeLine(buf: Buffer, from: number, to: number): void {
    this.line++;
    const start = this.contentStart(buf, from, to);
    const end = to > start && buf[to - 1] === CR ? to - 1 : to;
    if (end - start > this.maxRecordBytes) throw this.tooLarge(this.line);
    const text = buf.toString('utf8', start, end);
    if (isBlank(text)) return;

    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw this.lineFault(buf.subarray(start, end), start - from);
    }
    this.emit(value, text);
  }

  /** Skips a BOM on line 1 and a JSON-seq record separator. */
  private contentStart(buf: Buffer, from: number, to: number): number {
    const start = this.line === 1 && hasBom(buf, from, to) ? from + 3 : from;

    return start < to && buf[start] === RS ? start + 1 : start;
  }

  private emit(value: unknown, text: string): void {
    const line = this.line;
    if (isJsonObject(value) && !Array.isArray(value[RECORDS_KEY]) && !Array.isArray(value[RESULTS_KEY])) {
      const record: SourceRecord = { position: this.position++, line, value };
      const exact = exactTextOf(value, text);
      if (exact !== undefined) record.text = exact;
      this.out.push(record);

      return;
    }

    const shaped = shapeValue(value, (message) => {
      throw new BodyParseError(`line ${line}: ${message}`, { line });
    });
    for (const record of shaped) this.push(record, line);
  }

  private push(shaped: ShapedRecord, line: number): void {
    const record: SourceRecord = { position: this.position++, line, value: shaped.value };
    if (shaped.error !== undefined) record.error = shaped.error;
    this.out.push(record);
  }

  private tooLarge(line: number): Error {
    return recordTooLarge(this.maxRecordBytes, { record: this.position, line });
  }

  private lineFault(bytes: Buffer, skipped: number): BodyParseError {
    const fault = locateJsonFault(bytes, 'line') ?? { index: 0, what: 'invalid JSON value' };
    const start = { line: this.line, column: 1 + skipped, offset: this.lineOffset + skipped };
    const place = placeWithin(bytes, fault.index, start);
    const message = `line ${this.line} is not valid JSON: ${faultMessage(fault, `column ${place.column}`)}`;

    return new BodyParseError(message, { line: place.line, column: place.column, offset: place.offset });
  }
}

function isBlank(text: string): boolean {
  if (text.length === 0) return true;

  const first = text.charCodeAt(0);

  return (first === 0x20 || first === 0x09 || first === CR) && text.trim() === '';
}

function hasBom(buf: Buffer, from: number, to: number): boolean {
  return to - from >= 3 && buf[from] === 0xef && buf[from + 1] === 0xbb && buf[from + 2] === 0xbf;
}
