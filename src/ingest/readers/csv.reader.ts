/**
 * Streaming RFC 4180 CSV. The first row is the header; every later row becomes `{ header: field }`
 * with string values. Quoted fields may hold commas, line breaks and doubled quotes; rows end in LF
 * or CRLF; a BOM and blank lines are skipped. Rows without any quote take a fast path (one split),
 * others are read field by field. A row with the wrong field count is a broken record, not a broken
 * body. Chunks are decoded with a StringDecoder, so characters split across chunks stay whole. A row
 * (the header included) longer than the record limit is refused as soon as that much of it arrived,
 * and a body that starts like JSON is refused instead of being read as a one-column header.
 */
import { StringDecoder } from 'node:string_decoder';

import { BodyParseError } from '../../common/domain.errors.js';
import { DEFAULT_MAX_RECORD_BYTES, recordTooLarge } from './record.limit.js';
import { type Columns, columnsOf } from './record.shapes.js';
import type { SourceRecord } from './record.types.js';
import { QUOTE, COMMA, NL, LBRACE, LBRACKET } from './byte.codes.js';

const CR = 0x0d;
/** Text of an unfinished row that is not part of its record: a BOM (before the header) and a CR. */
const PENDING_EXTRA_BYTES = 4;
/** A UTF-16 code unit takes at most 3 bytes in UTF-8 (a surrogate pair, 2 units, takes 4). */
const MAX_UTF8_PER_UNIT = 3;

interface CsvRow {
  fields: string[];
  /** Index just after the row's line break. */
  next: number;
  /** Lines the row spans (quoted fields may hold line breaks). */
  lines: number;
  error?: string;
}

export async function* readCsvRecords(
  body: AsyncIterable<Buffer>,
  maxRecordBytes = DEFAULT_MAX_RECORD_BYTES,
): AsyncGenerator<SourceRecord[]> {
  const decoder = new StringDecoder('utf8');
  const parser = new CsvRowParser(maxRecordBytes);
  for await (const chunk of body) {
    const records = parser.feed(decoder.write(chunk), false);
    if (records.length > 0) yield records;
  }

  const last = parser.feed(decoder.end(), true);
  if (last.length > 0) yield last;
}

/** Feed decoded text in order; the last call has `final` set. Each call returns the rows it completed. */
export class CsvRowParser {
  /** Text of the unfinished row. */
  private pending = '';
  /** UTF-8 bytes of `pending` (a BOM included), kept to refuse an oversized row before it is whole. */
  private pendingBytes = 0;
  /** After a read that ended no row, the next read waits until the text has doubled: a long row is not re-read
   *  from its start for every small chunk (quadratic time). */
  private retryLength = 0;
  private started = false;
  /** Line where the next row starts. */
  private line = 1;
  private header: Columns | undefined;
  private position = 0;
  /** Cached index of the next quote / line break at or after the read position (Infinity: none). */
  private nextQuote = -1;
  private nextBreak = -1;
  private out: SourceRecord[] = [];

  constructor(private readonly maxRecordBytes = DEFAULT_MAX_RECORD_BYTES) {}

  feed(text: string, final: boolean): SourceRecord[] {
    this.out = [];
    const s = this.withoutBom(this.pending + text);
    if (!final && this.waitingFor(s, text)) return this.out;

    this.nextQuote = -1;
    this.nextBreak = -1;
    let i = 0;
    while (i < s.length) {
      if (!this.header) this.refuseJson(s, i);
      const row = this.readRow(s, i, final);
      if (!row) break;
      this.checkRowSize(s, i, row.next);
      this.takeRow(row);
      i = row.next;
    }
    this.keepPending(s, i, text);
    this.retryLength = i === 0 ? 2 * s.length : 0;

    return this.out;
  }

  /** Keeps the text without reading it while it is short of the retry length and within the record limit. */
  private waitingFor(s: string, text: string): boolean {
    if (s.length >= this.retryLength) return false;

    const bytes = this.pendingBytes + Buffer.byteLength(text);
    if (bytes > this.maxRecordBytes + PENDING_EXTRA_BYTES) return false;
    this.pending = s;
    this.pendingBytes = bytes;

    return true;
  }

  /** Counts the unfinished row's bytes: from the new text alone while no row ends, else afresh. */
  private keepPending(s: string, i: number, text: string): void {
    this.pending = i < s.length ? s.slice(i) : '';
    this.pendingBytes = i === 0 ? this.pendingBytes + Buffer.byteLength(text) : Buffer.byteLength(this.pending);
    if (this.pendingBytes > this.maxRecordBytes + PENDING_EXTRA_BYTES) throw this.tooLarge();
  }

  /** The row's size without its line break; most rows are judged by their length alone. */
  private checkRowSize(s: string, from: number, next: number): void {
    let end = Math.min(next - 1, s.length);
    if (end > from && s.charCodeAt(end - 1) === CR) end--;
    const units = end - from;
    if (units * MAX_UTF8_PER_UNIT <= this.maxRecordBytes) return;
    if (units <= this.maxRecordBytes && Buffer.byteLength(s.slice(from, end)) <= this.maxRecordBytes) return;

    throw this.tooLarge();
  }

  /** JSON posted as CSV would read as a one-column header and no records: say so instead. */
  private refuseJson(s: string, from: number): void {
    let k = from;
    while (k < s.length && (s.charCodeAt(k) === 0x20 || s.charCodeAt(k) === 0x09)) k++;
    const c = s.charCodeAt(k);
    if (c !== LBRACKET && c !== LBRACE) return;

    const message = 'the body looks like JSON, not CSV; send Content-Type application/json';
    throw new BodyParseError(message, { line: this.line });
  }

  private withoutBom(s: string): string {
    if (this.started || s.length === 0) return s;

    this.started = true;

    return s.charCodeAt(0) === 0xfeff ? s.slice(1) : s;
  }

  private readRow(s: string, i: number, final: boolean): CsvRow | undefined {
    const lineBreak = this.breakAt(s, i);
    if (lineBreak === Infinity && !final) return undefined;

    const end = Math.min(lineBreak, s.length);
    if (this.quoteAt(s, i) < end) return this.readQuotedRow(s, i, final);

    const stop = end > i && s.charCodeAt(end - 1) === CR ? end - 1 : end;

    return { fields: stop === i ? [] : s.slice(i, stop).split(','), next: end + 1, lines: 1 };
  }

  private readQuotedRow(s: string, from: number, final: boolean): CsvRow | undefined {
    const row: CsvRow = { fields: [], next: from, lines: 1 };
    let i = from;
    for (;;) {
      let end = s.charCodeAt(i) === QUOTE ? this.readQuoted(s, i, final, row) : this.readUnquoted(s, i, final, row);
      if (end >= 0 && !isFieldEnd(s, end)) end = this.readStray(s, end, final, row);
      if (end < 0) return undefined;
      if (s.charCodeAt(end) !== COMMA) return finishRow(s, end, final, row);
      i = end + 1;
    }
  }

  /** Index just after the closing quote, or -1 when the text ends before the field is known. */
  private readQuoted(s: string, from: number, final: boolean, row: CsvRow): number {
    const parts: string[] = [];
    let segment = from + 1;
    for (;;) {
      const quote = s.indexOf('"', segment);
      if (quote < 0 && final) throw this.unterminated(row);
      if (quote < 0 || (quote + 1 >= s.length && !final)) return -1;

      parts.push(s.slice(segment, quote));
      if (s.charCodeAt(quote + 1) !== QUOTE) {
        row.fields.push(parts.length === 1 ? parts[0] : parts.join('"'));
        row.lines += countBreaks(s, from, quote);

        return quote + 1;
      }
      segment = quote + 2;
    }
  }

  /** Index of the ',' or line break that ends the field (or the text's end), or -1 for more text. */
  private readUnquoted(s: string, from: number, final: boolean, row: CsvRow): number {
    const comma = s.indexOf(',', from);
    const lineBreak = this.breakAt(s, from);
    const end = Math.min(comma < 0 ? Infinity : comma, lineBreak, s.length);
    if (end === s.length && !final) return -1;

    const atLineEnd = end !== comma && end > from && s.charCodeAt(end - 1) === CR;
    row.fields.push(s.slice(from, atLineEnd ? end - 1 : end));

    return end;
  }

  /** Text between a closing quote and the next delimiter joins the field; the row is marked broken. */
  private readStray(s: string, from: number, final: boolean, row: CsvRow): number {
    const end = this.readUnquoted(s, from, final, row);
    if (end < 0) return end;

    const stray = row.fields.pop() as string;
    row.fields[row.fields.length - 1] += stray;
    row.error ??= `field ${row.fields.length} has text after its closing quote`;

    return end;
  }

  private takeRow(row: CsvRow): void {
    const line = this.line;
    this.line += row.lines;
    if (row.fields.length === 0) return;
    if (!this.header) {
      this.header = checkedHeader(row.fields, line);

      return;
    }

    this.out.push(this.recordOf(row, this.header, line));
  }

  private recordOf(row: CsvRow, header: Columns, line: number): SourceRecord {
    const position = this.position++;
    const expected = header.names.length;
    if (row.error) return { position, line, value: {}, error: row.error };
    if (row.fields.length !== expected) {
      return { position, line, value: {}, error: `row has ${row.fields.length} fields, header has ${expected}` };
    }

    return { position, line, value: header.build(row.fields) };
  }

  private quoteAt(s: string, from: number): number {
    if (this.nextQuote < from) this.nextQuote = indexOrInfinity(s, '"', from);

    return this.nextQuote;
  }

  private breakAt(s: string, from: number): number {
    if (this.nextBreak < from) this.nextBreak = indexOrInfinity(s, '\n', from);

    return this.nextBreak;
  }

  private tooLarge(): Error {
    const spot = this.header ? { record: this.position } : { what: 'the CSV header' };

    return recordTooLarge(this.maxRecordBytes, { ...spot, line: this.line });
  }

  private unterminated(row: CsvRow): BodyParseError {
    const line = this.line + row.lines - 1;

    return new BodyParseError(`unterminated quoted field starting at line ${line}`, { line });
  }
}

function checkedHeader(names: string[], line: number): Columns {
  const seen = new Map<string, number>();
  names.forEach((name, k) => {
    const first = seen.get(name);
    if (first !== undefined) {
      const message = `CSV header has the column name "${name}" twice (fields ${first + 1} and ${k + 1})`;
      throw new BodyParseError(message, { line, field: k + 1 });
    }
    seen.set(name, k);
  });

  return columnsOf(names);
}

function isFieldEnd(s: string, k: number): boolean {
  if (k >= s.length) return true;

  const c = s.charCodeAt(k);
  if (c === COMMA || c === NL) return true;

  return c === CR && (k + 1 >= s.length || s.charCodeAt(k + 1) === NL);
}

function finishRow(s: string, end: number, final: boolean, row: CsvRow): CsvRow | undefined {
  const crlf = s.charCodeAt(end) === CR;
  if (crlf && end + 1 >= s.length && !final) return undefined;

  row.next = end + (crlf ? 2 : 1);

  return row;
}

function countBreaks(s: string, from: number, to: number): number {
  let count = 0;
  for (let k = s.indexOf('\n', from); k >= 0 && k < to; k = s.indexOf('\n', k + 1)) count++;

  return count;
}

function indexOrInfinity(s: string, search: string, from: number): number {
  const index = s.indexOf(search, from);

  return index < 0 ? Infinity : index;
}
