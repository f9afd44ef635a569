/**
 * Streaming JSON reader. A byte state machine (depth, in-string, escape) delimits complete values
 * across chunks and JSON.parse() judges each one; the body is never held whole. Records are:
 * the elements of a top-level array, the rows of an Advanced Hunting response's `Results`, the
 * elements of an envelope's `records`, or any other top-level object; several top-level values may
 * follow one another. Working on bytes keeps multi-byte UTF-8 split across chunks intact: every
 * structural byte is ASCII and text is decoded only once a value is complete. A value longer than the
 * record limit is refused as soon as that many of its bytes arrived; the head of an envelope is one
 * such value until its records array begins, then each element is measured on its own.
 */
import { BodyParseError } from '../../common/domain.errors.js';
import { bodyFault, describeByte, type JsonFault, locateJsonFault, placeWithin } from './json-fault.locator.js';
import { exactTextOf } from './exact-json.js';
import { DEFAULT_MAX_RECORD_BYTES, recordTooLarge } from './record.limit.js';
import {
  NO_SCHEMA,
  RECORDS_KEY,
  RESULTS_KEY,
  SCHEMA_KEY,
  schemaColumns,
  shapeElement,
  shapeResultRow,
  type SchemaColumns,
  type ShapedRecord,
} from './record.shapes.js';
import type { SourceRecord, TextPlace } from './record.types.js';
import { QUOTE, BACKSLASH, LBRACE, RBRACE, LBRACKET, RBRACKET, COMMA, COLON, NL } from './byte.codes.js';

const BOM = [0xef, 0xbb, 0xbf];
const EMPTY = Buffer.alloc(0);
type ArrayKind = 'top' | 'results' | 'records';

/** `"Results"` and `"records"` with their quotes: the keys whose arrays are streamed. */
const STREAMED_KEYS = new Map<string, ArrayKind>([
  [`"${RESULTS_KEY}"`, 'results'],
  [`"${RECORDS_KEY}"`, 'records'],
]);
const STREAMED_KEY_BYTES = 9;

interface ArrayFrame {
  readonly type: 'array';
  readonly kind: ArrayKind;
  state: 'first' | 'value' | 'after';
}

/** A top-level object already known to be an envelope (its streamed array has begun). */
interface ObjectFrame {
  readonly type: 'object';
  state: 'key' | 'colon' | 'value' | 'after';
  key: string;
}

type Frame = ArrayFrame | ObjectFrame;

/** A value being delimited; its bytes are kept from `start` until it is complete. */
interface Capture {
  readonly role: 'top' | 'element' | 'key' | 'member';
  readonly kind: 'container' | 'string' | 'scalar';
  readonly start: number;
  readonly place: TextPlace;
  /** Top-level objects: watch depth-1 keys for `Results` / `records` followed by an array. */
  readonly watch: boolean;
}

export async function* readJsonRecords(
  body: AsyncIterable<Buffer>,
  maxRecordBytes = DEFAULT_MAX_RECORD_BYTES,
): AsyncGenerator<SourceRecord[]> {
  const scanner = new JsonRecordScanner(maxRecordBytes);
  for await (const chunk of body) {
    const records = scanner.feed(chunk);
    if (records.length > 0) yield records;
  }

  const last = scanner.end();
  if (last.length > 0) yield last;
}

/** Feed chunks in order, then call `end()`; each call returns the records completed by it. */
export class JsonRecordScanner {
  private chunk: Buffer = EMPTY;
  /** Absolute byte offset of `chunk[0]`. */
  private base = 0;
  /** Earlier chunks (or their tails) still needed by the open capture, starting at `piecesStart`. */
  private pieces: Buffer[] = [];
  private piecesStart = 0;
  private line = 1;
  private lineStart = 0;
  private bomBytes = 0;
  private readonly frames: Frame[] = [];
  private cap: Capture | undefined;
  private depth = 0;
  private brackets = new Uint8Array(64);
  private inString = false;
  private escapePending = false;
  private stringStart = 0;
  /** 0: nothing, 1: a streamed key just closed at depth 1, 2: its ':' seen too. */
  private envState = 0;
  private envKind: ArrayKind = 'records';
  private keyStart = 0;
  private columns: SchemaColumns = NO_SCHEMA;
  private position = 0;
  /** Text of the value parsed last, for exactTextOf. */
  private lastText = '';
  private out: SourceRecord[] = [];

  constructor(private readonly maxRecordBytes = DEFAULT_MAX_RECORD_BYTES) {}

  feed(chunk: Buffer): SourceRecord[] {
    this.chunk = chunk;
    this.out = [];
    let i = 0;
    while (i < chunk.length) i = this.cap ? this.scanCapture(i) : this.scanOuter(i);
    this.retain();
    this.base += chunk.length;

    return this.out;
  }

  end(): SourceRecord[] {
    this.chunk = EMPTY;
    this.out = [];
    if (this.bomBytes === 1 || this.bomBytes === 2) throw this.partialBom();
    if (this.cap) this.endCapture(this.cap);

    const frame = this.frames.at(-1);
    if (frame) throw this.truncated(frame.type === 'array' ? 'an array' : 'an object');

    return this.out;
  }

  // ---- outside captures: top level, streamed arrays, envelope members -------------------------

  private scanOuter(i: number): number {
    const c = this.chunk[i];
    if (this.base + i < 3 && this.skipBom(c, this.base + i)) return i + 1;
    if (c === 0x20 || c === 0x09 || c === 0x0d) return i + 1;
    if (c === NL) {
      this.newLine(i);

      return i + 1;
    }

    const frame = this.frames.at(-1);
    if (!frame) return this.topStep(c, i);

    return frame.type === 'array' ? this.arrayStep(frame, c, i) : this.objectStep(frame, c, i);
  }

  private topStep(c: number, i: number): number {
    if (c !== LBRACKET) {
      this.columns = NO_SCHEMA;

      return this.startValue(i, 'top', c === LBRACE, 'a JSON value');
    }

    this.frames.push({ type: 'array', kind: 'top', state: 'first' });

    return i + 1;
  }

  private arrayStep(frame: ArrayFrame, c: number, i: number): number {
    if (frame.state === 'after') {
      if (c === RBRACKET) return this.closeArray(i);
      if (c !== COMMA) throw this.unexpected(i, "',' or ']'");
      frame.state = 'value';

      return i + 1;
    }
    if (c === RBRACKET && frame.state === 'first') return this.closeArray(i);

    frame.state = 'after';

    return this.startValue(i, 'element', false, 'a value');
  }

  private closeArray(i: number): number {
    this.frames.pop();
    const parent = this.frames.at(-1);
    if (parent?.type === 'object') parent.state = 'after';

    return i + 1;
  }

  private objectStep(frame: ObjectFrame, c: number, i: number): number {
    if (frame.state === 'key') {
      if (c !== QUOTE) throw this.unexpected(i, 'a property name in double quotes');
      frame.state = 'colon';

      return this.startValue(i, 'key', false, 'a property name');
    }
    if (frame.state === 'colon') {
      if (c !== COLON) throw this.unexpected(i, "':'");
      frame.state = 'value';

      return i + 1;
    }

    return frame.state === 'value' ? this.memberValue(frame, c, i) : this.afterMember(c, i, frame);
  }

  private memberValue(frame: ObjectFrame, c: number, i: number): number {
    frame.state = 'after';
    const kind = STREAMED_KEYS.get(JSON.stringify(frame.key));
    if (c !== LBRACKET || !kind) return this.startValue(i, 'member', false, 'a value');

    this.frames.push({ type: 'array', kind, state: 'first' });

    return i + 1;
  }

  private afterMember(c: number, i: number, frame: ObjectFrame): number {
    if (c === RBRACE) this.frames.pop();
    else if (c === COMMA) frame.state = 'key';
    else throw this.unexpected(i, "',' or '}'");

    return i + 1;
  }

  private startValue(i: number, role: Capture['role'], watch: boolean, expected: string): number {
    const c = this.chunk[i];
    const kind = c === LBRACE || c === LBRACKET ? 'container' : c === QUOTE ? 'string' : scalarKind(c);
    if (!kind) throw this.unexpected(i, expected);

    this.cap = { role, kind, start: this.base + i, place: this.placeAt(i), watch };
    this.envState = 0;
    this.escapePending = false;
    this.inString = kind === 'string';

    return kind === 'string' ? i + 1 : i;
  }

  // ---- inside a capture ------------------------------------------------------------------------

  private scanCapture(i: number): number {
    const cap = this.cap as Capture;
    if (cap.kind === 'container') return this.scanContainer(i, cap);

    const end = cap.kind === 'string' ? this.continueString(i) : scanScalar(this.chunk, i);
    const open = cap.kind === 'string' ? end < 0 : end === this.chunk.length;
    if (open) return this.chunk.length;

    this.finishCapture(cap, this.base + end);

    return end;
  }

  /**
   * The hot loop, kept in one piece for speed: strings are skipped with indexOf, brackets are
   * counted and matched, line breaks counted; depth-1 bytes of a top-level object also feed the
   * envelope watch. Returns the index after the value, or the chunk length when it goes on.
   */
  private scanContainer(from: number, cap: Capture): number {
    const buf = this.chunk;
    let i = from;
    if (this.inString) {
      i = this.continueString(i);
      if (i < 0) return buf.length;
      if (this.depth === 1 && cap.watch) this.keyClosed(i);
    }

    let depth = this.depth;
    while (i < buf.length) {
      const c = buf[i];
      if (c === QUOTE) {
        this.stringStart = this.base + i;
        i = this.continueString(i + 1);
        if (i < 0) break;
        if (depth === 1 && cap.watch) this.keyClosed(i);
        continue;
      }
      if (c === LBRACE || c === LBRACKET) {
        if (depth === 1 && this.envState !== 0) {
          if (c === LBRACKET && this.envState === 2) return this.enterEnvelope(i, cap);
          this.envState = 0;
        }
        this.pushBracket(depth++, c);
      } else if (c === RBRACE || c === RBRACKET) {
        depth--;
        // '{' and '[' are 2 below '}' and ']'
        if (this.brackets[depth] !== c - 2) throw this.captureFault(cap, this.base + i + 1);
        if (depth === 0) {
          this.depth = 0;
          this.finishCapture(cap, this.base + i + 1);

          return i + 1;
        }
      } else if (c === NL) {
        this.newLine(i);
      } else if (depth === 1 && this.envState !== 0) {
        this.watchByte(c);
      }
      i++;
    }
    this.depth = depth;

    return buf.length;
  }

  /** Index just after the closing quote, or -1 when the string goes on in the next chunk. */
  private continueString(from: number): number {
    const buf = this.chunk;
    let i = from;
    if (this.escapePending) {
      this.escapePending = false;
      i++;
    }

    const end = i < buf.length ? skipString(buf, i) : -1;
    this.inString = end < 0;
    if (end < 0) this.escapePending = endsInEscape(buf, i);

    return end;
  }

  private pushBracket(depth: number, c: number): void {
    if (depth >= this.brackets.length) {
      const grown = new Uint8Array(this.brackets.length * 2);
      grown.set(this.brackets);
      this.brackets = grown;
    }
    this.brackets[depth] = c;
  }

  private keyClosed(end: number): void {
    const start = this.stringStart;
    const length = this.base + end - start;
    const kind = length === STREAMED_KEY_BYTES ? STREAMED_KEYS.get(this.extract(start, start + length)) : undefined;
    this.envState = kind ? 1 : 0;
    if (!kind) return;

    this.envKind = kind;
    this.keyStart = start;
  }

  private watchByte(c: number): void {
    if (c === COLON && this.envState === 1) this.envState = 2;
    else if (c !== 0x20 && c !== 0x09 && c !== 0x0d) this.envState = 0;
  }

  /** A top-level object turned out to be an envelope: stream its array from here on. */
  private enterEnvelope(i: number, cap: Capture): number {
    if (this.base + i - cap.start > this.maxRecordBytes) throw this.tooLarge(cap);
    const head = this.envelopeHead(cap, i);
    this.columns = schemaColumns(head[SCHEMA_KEY]);
    this.cap = undefined;
    this.depth = 0;
    this.envState = 0;
    this.frames.push({ type: 'object', state: 'after', key: '' });
    this.frames.push({ type: 'array', kind: this.envKind, state: 'first' });

    return i + 1;
  }

  /** The members before the streamed key, parsed (they are small: Schema, Stats...). */
  private envelopeHead(cap: Capture, bracket: number): Record<string, unknown> {
    const text = this.extract(cap.start, this.keyStart).trimEnd();
    const closed = text === '{' ? '{}' : text.endsWith(',') ? `${text.slice(0, -1)}}` : undefined;
    try {
      if (closed !== undefined) return JSON.parse(closed) as Record<string, unknown>;
    } catch {
      // reported below with the exact place
    }

    throw this.captureFault(cap, this.base + bracket + 1);
  }

  private finishCapture(cap: Capture, end: number): void {
    if (end - cap.start > this.maxRecordBytes) throw this.tooLarge(cap);
    this.cap = undefined;
    this.inString = false;
    if (cap.role === 'key') this.objectFrame().key = this.parse(cap, end) as string;
    else if (cap.role === 'member') this.takeMember(cap, end);
    else if (cap.role === 'element') this.emit(this.element(cap, end), cap.place.line);
    else this.emit(this.withExactText(shapeElement(this.parse(cap, end))), cap.place.line);
  }

  private element(cap: Capture, end: number): ShapedRecord {
    const value = this.parse(cap, end);
    if (this.arrayFrame().kind !== 'results') return this.withExactText(shapeElement(value));

    return shapeResultRow(value, this.columns, (message) => {
      throw new BodyParseError(`${message} (row at line ${cap.place.line} column ${cap.place.column})`, {
        ...cap.place,
      });
    });
  }

  private takeMember(cap: Capture, end: number): void {
    const value = this.parse(cap, end);
    if (this.objectFrame().key === SCHEMA_KEY) this.columns = schemaColumns(value);
  }

  private parse(cap: Capture, end: number): unknown {
    try {
      this.lastText = this.extract(cap.start, end);
      return JSON.parse(this.lastText);
    } catch {
      throw this.captureFault(cap, end);
    }
  }

  /** A record parsed whole from the last text keeps that text when parsing rounded an integer in it. */
  private withExactText(shaped: ShapedRecord): ShapedRecord & { text?: string } {
    const text = shaped.error === undefined ? exactTextOf(shaped.value, this.lastText) : undefined;

    return text === undefined ? shaped : { ...shaped, text };
  }

  private emit(shaped: ShapedRecord & { text?: string }, line: number): void {
    const record: SourceRecord = { position: this.position++, line, value: shaped.value };
    if (shaped.error !== undefined) record.error = shaped.error;
    if (shaped.text !== undefined) record.text = shaped.text;
    this.out.push(record);
  }

  private endCapture(cap: Capture): void {
    if (cap.kind === 'scalar') {
      this.finishCapture(cap, this.base);

      return;
    }

    const bytes = this.extractBytes(cap.start, this.base);
    const fault = locateJsonFault(bytes);
    if (fault && fault.index < bytes.length) throw bodyFault(fault, placeWithin(bytes, fault.index, cap.place));

    const inside = cap.kind === 'string' ? 'a string' : this.brackets[0] === LBRACE ? 'an object' : 'an array';
    throw this.truncated(inside, cap.place);
  }

  // ---- bytes kept across chunks ------------------------------------------------------------------

  private retain(): void {
    const keepFrom = this.cap ? this.cap.start : -1;
    if (this.cap && this.base + this.chunk.length - keepFrom > this.maxRecordBytes) throw this.tooLarge(this.cap);
    if (keepFrom < 0) {
      this.pieces = [];
    } else if (keepFrom >= this.base) {
      this.pieces = [this.chunk.subarray(keepFrom - this.base)];
      this.piecesStart = keepFrom;
    } else {
      this.pieces.push(this.chunk);
    }
  }

  private extract(start: number, end: number): string {
    if (start >= this.base) return this.chunk.toString('utf8', start - this.base, end - this.base);

    return this.extractBytes(start, end).toString('utf8');
  }

  private extractBytes(start: number, end: number): Buffer {
    if (start >= this.base) return this.chunk.subarray(start - this.base, end - this.base);

    const whole = Buffer.concat([...this.pieces, this.chunk.subarray(0, Math.max(0, end - this.base))]);

    return whole.subarray(start - this.piecesStart, end - this.piecesStart);
  }

  // ---- places and errors -------------------------------------------------------------------------

  private newLine(i: number): void {
    this.line++;
    this.lineStart = this.base + i + 1;
  }

  /** Skips a UTF-8 byte order mark at offsets 0..2, byte by byte (a chunk may split it). */
  private skipBom(c: number, offset: number): boolean {
    if (this.bomBytes === offset && c === BOM[offset]) {
      this.bomBytes++;
      if (this.bomBytes === 3) this.lineStart = 3;

      return true;
    }
    if (this.bomBytes === 1 || this.bomBytes === 2) throw this.partialBom();

    return false;
  }

  private placeAt(i: number): TextPlace {
    const offset = this.base + i;

    return { line: this.line, column: offset - this.lineStart + 1, offset };
  }

  private unexpected(i: number, expected: string): BodyParseError {
    const fault: JsonFault = { index: i, what: `unexpected ${describeByte(this.chunk, i)}`, expected };

    return bodyFault(fault, this.placeAt(i));
  }

  private partialBom(): BodyParseError {
    return bodyFault({ index: 0, what: 'unexpected byte 0xEF' }, { line: 1, column: 1, offset: 0 });
  }

  /** Scalars get the byte after them too, so "tru e" is reported at the space. */
  private captureFault(cap: Capture, end: number): BodyParseError {
    const stop = cap.kind === 'scalar' ? Math.min(end + 1, this.base + this.chunk.length) : end;
    const bytes = this.extractBytes(cap.start, stop);
    const fault = locateJsonFault(bytes) ?? { index: 0, what: 'invalid JSON value' };

    return bodyFault(fault, placeWithin(bytes, fault.index, cap.place));
  }

  /** Keys and members of an envelope beside its records array are not records but are measured alike. */
  private tooLarge(cap: Capture): Error {
    const member = cap.role === 'key' || cap.role === 'member';
    const spot = member ? { what: 'an envelope member' } : { record: this.position };

    return recordTooLarge(this.maxRecordBytes, { ...spot, line: cap.place.line });
  }

  private truncated(inside: string, started?: TextPlace): BodyParseError {
    const end = this.placeAt(0);
    const since = started ? ` that starts at line ${started.line} column ${started.column}` : '';
    const message = `unexpected end of body at line ${end.line} column ${end.column} inside ${inside}${since}`;

    return new BodyParseError(message, { ...end });
  }

  private arrayFrame(): ArrayFrame {
    return this.frames.at(-1) as ArrayFrame;
  }

  private objectFrame(): ObjectFrame {
    return this.frames.at(-1) as ObjectFrame;
  }
}

/** Index just after the closing quote of a string whose content starts at `from`; -1 if not here. */
function skipString(buf: Buffer, from: number): number {
  let i = from;
  for (;;) {
    const quote = buf.indexOf(QUOTE, i);
    if (quote < 0) return -1;

    let k = quote - 1;
    while (k >= i && buf[k] === BACKSLASH) k--;
    if ((quote - 1 - k) % 2 === 0) return quote + 1;
    i = quote + 1;
  }
}

/** Whether the chunk ends with an odd run of backslashes (so the next chunk's first byte is escaped). */
function endsInEscape(buf: Buffer, from: number): boolean {
  let k = buf.length - 1;
  while (k >= from && buf[k] === BACKSLASH) k--;

  return (buf.length - 1 - k) % 2 === 1;
}

function scalarKind(c: number): 'scalar' | undefined {
  const digit = c >= 0x30 && c <= 0x39;

  return digit || c === 0x2d || c === 0x74 || c === 0x66 || c === 0x6e ? 'scalar' : undefined;
}

/** Scalars (numbers, true, false, null) run until a byte that cannot be part of one. */
function scanScalar(buf: Buffer, from: number): number {
  let i = from;
  while (i < buf.length && isScalarByte(buf[i])) i++;

  return i;
}

function isScalarByte(c: number): boolean {
  const alphanumeric = (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a);

  return alphanumeric || c === 0x2e || c === 0x2b || c === 0x2d;
}
