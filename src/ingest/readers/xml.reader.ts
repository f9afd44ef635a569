/**
 * Streaming Windows event XML, as exported from EVTX files: Event Viewer "Save As XML" (a declaration and
 * an `<Events>` root) or `wevtutil qe /f:xml` and `Get-WinEvent | % { $_.ToXml() }` (many `<Event>` roots,
 * no declaration). Every `<Event>` element, top-level or inside `<Events>` roots, is one record: its exact
 * text, and a value `{ System, EventData, UserData? }` whose leaves are all strings:
 *
 * - `System`: each child by local name; text only → the text, attributes and no text → an object of the
 *   attributes (`Correlation: {}` when it has none), both → `{ ...attributes, '#text': text }`.
 * - `EventData` and `UserData`: `<Data Name='X'>v</Data>` → `X: 'v'`; `<Data>` without Name → in body order
 *   in an array under `Data`; any other child → its text, or, when it holds elements (the wrapper element
 *   of UserData), an object of its attributes and children read by these same rules.
 * - A name met twice in one element turns into an array of its values, so nothing is dropped silently.
 * - `System` and `EventData` are `{}` when the event has none; `UserData` is present only when the event
 *   has it. `RenderingInfo` and any other child of `<Event>` are left out of the value (they stay in `text`).
 * - Namespace prefixes are dropped and `xmlns` declarations are not attributes. Objects are built with
 *   Object.fromEntries, so a Name such as `__proto__` is an own property and never reaches a prototype.
 *
 * Parsing is done by saxes (strict, streaming) in fragment mode, which allows many roots but not an XML
 * declaration: the declaration is checked here and handed on as blanks. Saxes holds whatever text, comment or
 * tag it is in until that ends, so between events it is not handed the body as is: the gap between events is
 * read here (see readGap). Blanks and comments are skipped, never reaching saxes, so any amount of them is read
 * in bounded memory; other text and CDATA are refused; other markup (`<Events>`, `</Events>`, an `<Event>` start
 * tag) goes to saxes, refused past the record limit. An open event goes to saxes in pieces that stop at each '>'
 * that may end it, so saxes never reads past an event in one write and the gap after it is again read here.
 *
 * Only the text of the open `<Event>` (or of a tag not yet complete) is kept; an event is refused as soon as
 * its bytes pass the record limit. Saxes' position counts only the text it was handed: kept text starts at
 * saxes position `base`, and the line, column and byte offset of its start count the skipped text too. DOCTYPE
 * (and with it any entity declaration) is refused; only the five predefined entities and character references
 * are decoded.
 */
import { TextDecoder } from 'node:util';

import { SaxesParser, type SaxesTagPlain } from 'saxes';

import { BodyParseError } from '../../common/domain.errors.js';
import { DEFAULT_MAX_RECORD_BYTES, recordTooLarge } from './record.limit.js';
import type { SourceRecord, TextPlace } from './record.types.js';

/** Most text handed to saxes at a time, so an event passing the limit is caught within one slice of it. */
const SLICE_CHARS = 64 * 1024;
/** The longest XML declaration waited for before the body is judged not to have a complete one. */
const MAX_DECLARATION_CHARS = 1024;
const XML_DECLARATION = '<?xml';
const UTF8_ENCODINGS = new Set(['utf-8', 'utf8', 'us-ascii', 'ascii']);
const BOM = '\uFEFF';
const BOM_BYTES = 3;
/** A run of what is ignored between events: JavaScript whitespace that XML allows (a BOM or NBSP too). */
const BLANKS = /[^\S\v\f]*/y;
/** Characters XML 1.0 never allows; refused in a skipped comment as saxes refuses them elsewhere. */
const NOT_XML_CHAR = /[\x00-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]/;
const COMMENT_OPEN = '<!--';
const CDATA_OPEN = '<![CDATA[';
const MINUS = 0x2d;
/** How much of stray text between events a message quotes. */
const EXCERPT_CHARS = 40;
/** How far before a '>' the name of an event's end tag is looked for (its blanks before '>' included). */
const LOOKBACK_CHARS = 64;
const EVENT = 'Event';

type Rule = 'event' | 'system' | 'data' | 'skip';

/**
 * Where reading between events is: in blanks; after a '<' whose markup is not known yet (`pending`, not handed
 * to saxes); in a skipped comment (`dashes`: how many '-' it ends with so far); in a tag handed to saxes up to
 * its '>' (`quote`: the open attribute quote); in stray text, refused once `excerpt` is read.
 */
type Gap =
  { kind: 'blank' } | { kind: 'opening'; pending: string } | { kind: 'comment'; dashes: number } | Markup | Stray;

interface Markup {
  kind: 'markup';
  quote: string;
  bytes: number;
  readonly line: number;
  /** What it is, once known not to be an event's start tag (which is named as the record it would be). */
  what: string | undefined;
}

interface Stray {
  kind: 'stray';
  excerpt: string;
  readonly line: number;
}

const BLANK: Gap = { kind: 'blank' };

/** Child values of an element by name; a name met again turns into an array. */
class Members {
  private readonly values = new Map<string, unknown>();
  private readonly lists = new Set<string>();

  add(name: string, value: unknown): void {
    if (!this.values.has(name)) {
      this.values.set(name, value);

      return;
    }

    if (this.lists.has(name)) (this.values.get(name) as unknown[]).push(value);
    else this.values.set(name, [this.values.get(name), value]);
    this.lists.add(name);
  }

  /** Adds to the array under `name`, which is an array even for one value. */
  addToList(name: string, value: unknown): void {
    if (!this.values.has(name)) this.values.set(name, [value]);
    else this.add(name, value);
    this.lists.add(name);
  }

  get size(): number {
    return this.values.size;
  }

  toObject(): Record<string, unknown> {
    return Object.fromEntries(this.values);
  }
}

/** An element open inside an event. */
interface Frame {
  readonly name: string;
  readonly rule: Rule;
  readonly attributes: Record<string, string>;
  text: string;
  members: Members | undefined;
}

/** The event being read: where its text starts (saxes position) and how many of its bytes were counted. */
interface OpenEvent {
  readonly start: number;
  readonly line: number;
  countedTo: number;
  bytes: number;
  readonly frames: Frame[];
}

/**
 * Reads the records of an XML body, in batches of the records completed by each chunk; on an error, the
 * batches of earlier chunks have been yielded and the events completed in the failing chunk are not.
 */
export async function* readXmlRecords(
  body: AsyncIterable<Buffer>,
  maxRecordBytes = DEFAULT_MAX_RECORD_BYTES,
): AsyncGenerator<SourceRecord[]> {
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  const reader = new XmlEventReader(maxRecordBytes);
  let offset = 0;
  for await (const chunk of body) {
    const records = reader.feed(decodeUtf8(decoder, chunk, offset));
    offset += chunk.length;
    if (records.length > 0) yield records;
  }

  const last = reader.end(decodeUtf8(decoder, undefined, offset));
  if (last.length > 0) yield last;
}

/** Decodes a chunk, keeping a character split across chunks whole; bytes that are not UTF-8 are refused. */
function decodeUtf8(decoder: TextDecoder, chunk: Buffer | undefined, offset: number): string {
  try {
    return chunk ? decoder.decode(chunk, { stream: true }) : decoder.decode();
  } catch {
    const message = `the body is not UTF-8 text (bytes at or after offset ${offset}); send Windows event XML as UTF-8`;

    throw new BodyParseError(message, { offset });
  }
}

/** Feed decoded text in order, then call `end()`; each call returns the records of the events it completed. */
export class XmlEventReader {
  private readonly parser = new SaxesParser<{ fragment: true; xmlns: false }>({ fragment: true, xmlns: false });
  /** Text kept from saxes position `base` on: the open event, or a tag between events not yet complete. */
  private buffer = '';
  private base = 0;
  /** Line, byte offset and bytes since the line start at `buffer[0]`, skipped text counted. */
  private baseLine = 1;
  private baseByte = 0;
  private baseColumnBytes = 0;
  /** A position in the buffer whose line is known, so lines are counted once. */
  private cursor = 0;
  private cursorLine = 1;
  /** Text before the XML declaration is judged (absent once it is). */
  private head: string | undefined = '';
  private event: OpenEvent | undefined;
  private gap: Gap = BLANK;
  private position = 0;
  private out: SourceRecord[] = [];

  constructor(private readonly maxRecordBytes = DEFAULT_MAX_RECORD_BYTES) {
    this.parser.on('error', (error) => {
      throw this.syntaxError(error.message);
    });
    this.parser.on('opentagstart', (tag) => this.tagStarted(tag.name));
    this.parser.on('opentag', (tag) => this.tagOpened(tag));
    this.parser.on('closetag', () => this.tagClosed());
    this.parser.on('text', (text) => this.textRead(text, 'text'));
    this.parser.on('cdata', (text) => this.textRead(text, 'a CDATA section'));
    this.parser.on('processinginstruction', (pi) => this.instructionRead(pi.target));
  }

  /** Characters of the body kept now: the open event's text so far, or the start of an unfinished tag. */
  get keptChars(): number {
    return this.buffer.length;
  }

  /** Reads the next text of the body; returns the records of the events it completed. */
  feed(text: string): SourceRecord[] {
    this.out = [];
    if (this.head === undefined) this.write(text, text);
    else this.readHead(text, false);

    return this.out;
  }

  /** Reads the last text of the body and checks that nothing is left open; returns the events it completed. */
  end(text = ''): SourceRecord[] {
    this.out = [];
    if (this.head === undefined) this.write(text, text);
    else this.readHead(text, true);
    this.endGap();
    this.parser.close();

    return this.out;
  }

  // ---- the start of the body: BOM, XML declaration --------------------------------------------------

  private readHead(text: string, final: boolean): void {
    const head = this.withoutBom(this.head + text);

    const declared = head.startsWith(XML_DECLARATION) && /^<\?xml[\s?]/.test(head);
    if (!final && (XML_DECLARATION.startsWith(head) || (declared && !head.includes('?>')))) {
      this.head = head;
      if (head.length > MAX_DECLARATION_CHARS) throw this.declarationError('is not closed');

      return;
    }

    this.head = undefined;
    if (!declared || !head.includes('?>')) return this.write(head, head);

    const end = head.indexOf('?>') + 2;
    this.checkDeclaration(head.slice(0, end));
    this.write(head, head.slice(0, end).replace(/[^\r\n]/g, ' ') + head.slice(end));
  }

  private withoutBom(head: string): string {
    if (this.baseByte > 0 || !head.startsWith(BOM)) return head;

    this.baseByte = BOM_BYTES;
    this.baseColumnBytes = BOM_BYTES;

    return head.slice(1);
  }

  private checkDeclaration(declaration: string): void {
    if (!/^<\?xml\s+version\s*=\s*(['"])1\.[0-9]+\1/.test(declaration)) throw this.declarationError('has no version');

    const encoding = /\sencoding\s*=\s*(['"])([^'"]*)\1/.exec(declaration)?.[2];
    if (encoding === undefined || UTF8_ENCODINGS.has(encoding.toLowerCase())) return;

    throw this.declarationError(`names the encoding "${encoding}"; send the body as UTF-8`);
  }

  private declarationError(what: string): BodyParseError {
    return new BodyParseError(`the XML declaration at line 1 ${what}`, { line: 1 });
  }

  // ---- handing the body to saxes ---------------------------------------------------------------------

  /**
   * Reads `text` on: an open event is handed to saxes, the gap between events is read here. `parsed` is the
   * same text with the XML declaration blanked; the two differ only there, inside a gap's blanks.
   */
  private write(text: string, parsed: string): void {
    for (let from = 0; from < text.length;) {
      from = this.event ? this.writeEvent(text, parsed, from, this.event) : this.readGap(text, parsed, from);
    }
  }

  /** Hands the open event to saxes up to the next '>' that may end it, or one slice on; returns where it stopped. */
  private writeEvent(text: string, parsed: string, from: number, event: OpenEvent): number {
    const end = this.eventPieceEnd(text, parsed, from, event.frames.length === 0);
    this.handOn(text.slice(from, end), parsed.slice(from, end));

    if (this.event) this.keepEvent(this.event);
    else this.drop(this.buffer.length);

    return end;
  }

  private handOn(text: string, parsed: string): void {
    this.buffer += text;
    this.parser.write(parsed);
  }

  /**
   * Where the piece of an open event ends: after the first '>' within a slice that may end the event, or at the
   * slice's end. Stopping at a '>' that does not end it only costs a write; missing one would let saxes read on.
   */
  private eventPieceEnd(text: string, parsed: string, from: number, startTagOpen: boolean): number {
    const stop = Math.min(parsed.length, from + SLICE_CHARS);
    const slice = parsed.slice(from, stop);
    for (let k = slice.indexOf('>'); k >= 0; k = slice.indexOf('>', k + 1)) {
      if (this.mayEndEvent(text, from, from + k, startTagOpen)) return from + k + 1;
    }

    return stop;
  }

  /**
   * Whether the '>' at `at` may end the open event: it follows `Event` and blanks (`</Event >`, `</ev:Event>`),
   * or '/' while the event's start tag is open (`<Event/>`), or blanks too long to see past. Text before `from`
   * is the end of the buffer, which holds the whole event so far.
   */
  private mayEndEvent(text: string, from: number, at: number, startTagOpen: boolean): boolean {
    const own = text.slice(Math.max(from, at - LOOKBACK_CHARS), at);
    const fromBuffer = LOOKBACK_CHARS - own.length;
    const before = fromBuffer > 0 ? this.buffer.slice(Math.max(0, this.buffer.length - fromBuffer)) + own : own;
    const name = before.trimEnd();

    const unseen = before.length === LOOKBACK_CHARS && name.length < EVENT.length;

    return unseen || name.endsWith(EVENT) || (startTagOpen && name.endsWith('/'));
  }

  /** Keeps only the open event's text and counts its bytes so far: they only grow, so past the limit it is refused. */
  private keepEvent(event: OpenEvent): void {
    this.drop(event.start - this.base);
    const end = this.base + this.buffer.length;
    event.bytes += Buffer.byteLength(this.buffer.slice(event.countedTo - this.base));
    event.countedTo = end;
    if (event.bytes > this.maxRecordBytes) throw this.tooLarge(event.line);
  }

  /** Drops kept text saxes has read and needs no more, moving the place of the buffer's start past it. */
  private drop(cut: number): void {
    if (cut === 0) return;

    const line = this.lineAt(cut);
    this.passed(this.buffer.slice(0, cut), line);
    this.buffer = this.buffer.slice(cut);
    this.base += cut;
  }

  /** Passes over text saxes is not handed (blanks, comments between events); nothing kept is needed then. */
  private skip(text: string): void {
    this.drop(this.buffer.length);

    this.passed(text, this.baseLine + countBreaks(text, 0));
  }

  /** Moves the place of the buffer's start past `text`, which ends on line `line`. */
  private passed(text: string, line: number): void {
    const lastBreak = text.lastIndexOf('\n');
    const bytes = Buffer.byteLength(text);
    this.baseLine = line;
    this.baseColumnBytes = lastBreak >= 0 ? Buffer.byteLength(text.slice(lastBreak + 1)) : this.baseColumnBytes + bytes;
    this.baseByte += bytes;
    this.cursor = 0;
    this.cursorLine = line;
  }

  // ---- between events --------------------------------------------------------------------------------

  /** Reads the gap between events from `from` on; returns where it stopped. */
  private readGap(text: string, parsed: string, from: number): number {
    const gap = this.gap;
    switch (gap.kind) {
      case 'blank':
        return this.readBlanks(text, parsed, from);
      case 'opening':
        return this.readOpening(parsed, from, gap);
      case 'comment':
        return this.readComment(text, parsed, from, gap);
      case 'markup':
        return this.readMarkup(text, parsed, from, gap);
      case 'stray':
        return this.readStray(parsed, from, gap);
    }
  }

  /** Skips blanks up to a '<' (markup follows) or anything else (stray text follows). */
  private readBlanks(text: string, parsed: string, from: number): number {
    BLANKS.lastIndex = from;
    BLANKS.test(parsed);
    const end = BLANKS.lastIndex;
    this.skip(text.slice(from, end));
    if (end === parsed.length) return end;

    this.gap =
      parsed[end] === '<' ? { kind: 'opening', pending: '' } : { kind: 'stray', excerpt: '', line: this.baseLine };

    return end;
  }

  /**
   * After a '<', waits for enough of the markup to tell a comment (skipped) or a CDATA section (refused) from
   * the rest (handed to saxes). The pending text is the same in `text` and `parsed`, being past the declaration.
   */
  private readOpening(parsed: string, from: number, gap: { pending: string }): number {
    let at = from;
    let kind = markupKind(gap.pending);
    while (kind === undefined && at < parsed.length) {
      gap.pending += parsed[at++];
      kind = markupKind(gap.pending);
    }

    if (kind === 'comment') {
      this.skip(gap.pending);
      this.gap = { kind: 'comment', dashes: 0 };
    } else if (kind === 'cdata') {
      throw this.outsideText('a CDATA section', this.baseLine);
    } else if (kind === 'markup') {
      this.startMarkup(gap.pending);
    }

    return at;
  }

  // TODO: a `<!` that is no comment, CDATA section or DOCTYPE is refused by saxes only once it has 7 characters
  // after `<!`, which may be at the next markup or the body's end, so the place named can be later than the `<!`.
  // It is refused either way; naming its own place would mean duplicating saxes' rules here.
  private startMarkup(pending: string): void {
    const markup: Markup = { kind: 'markup', quote: '', bytes: 0, line: this.baseLine, what: markupWhat(pending) };
    this.gap = markup;

    this.readMarkup(pending, pending, 0, markup);
  }

  /**
   * Hands a tag to saxes up to its '>' (outside quotes), one slice at a time, refused once past the record limit
   * (saxes has read its name by then, naming it): it may be the start tag of an event, then read on as the event.
   */
  private readMarkup(text: string, parsed: string, from: number, markup: Markup): number {
    const stop = Math.min(parsed.length, from + SLICE_CHARS);
    const closed = tagEnd(parsed, from, stop, markup);
    const end = closed < 0 ? stop : closed;
    this.handOn(text.slice(from, end), parsed.slice(from, end));
    markup.bytes += Buffer.byteLength(text.slice(from, end));
    if (markup.bytes > this.maxRecordBytes) throw this.markupTooLarge(markup);

    if (this.event || closed >= 0) this.gap = BLANK;
    if (this.event) this.keepEvent(this.event);
    else if (closed >= 0) this.drop(this.buffer.length);

    return end;
  }

  /** Skips a comment to its `-->`; `--` inside it, or a character XML does not allow, is refused as saxes would. */
  private readComment(text: string, parsed: string, from: number, comment: { dashes: number }): number {
    let at = from;
    while (at < parsed.length && comment.dashes < 2) {
      if (parsed.charCodeAt(at) === MINUS) {
        comment.dashes++;
        at++;
      } else {
        comment.dashes = 0;
        const dash = parsed.indexOf('-', at);
        at = dash < 0 ? parsed.length : dash;
      }
    }

    const ended = comment.dashes === 2 && at < parsed.length;
    if (ended && parsed[at] !== '>') throw this.gapSyntaxError(text.slice(from, at), 'malformed comment');

    this.skipCommentText(text.slice(from, ended ? at + 1 : at));
    if (ended) this.gap = BLANK;

    return ended ? at + 1 : at;
  }

  private skipCommentText(text: string): void {
    const bad = text.search(NOT_XML_CHAR);
    if (bad >= 0) throw this.gapSyntaxError(text.slice(0, bad), 'disallowed character');

    this.skip(text);
  }

  /** Collects the start of stray text to quote it; refused at its end, at the next '<' or once quoted enough. */
  private readStray(parsed: string, from: number, stray: Stray): number {
    let at = from;
    while (at < parsed.length && parsed[at] !== '<' && stray.excerpt.length < EXCERPT_CHARS) {
      stray.excerpt += parsed[at++];
    }
    if (at < parsed.length) throw this.strayTextError(stray);

    return at;
  }

  /** At the body's end: an unfinished '<' is handed to saxes (which then refuses it), a comment or text refused. */
  private endGap(): void {
    const gap = this.gap;
    if (gap.kind === 'opening' && gap.pending !== '') this.startMarkup(gap.pending);
    if (gap.kind === 'comment') throw this.gapSyntaxError('', 'unclosed comment');
    if (gap.kind === 'stray') throw this.strayTextError(gap);
  }

  // ---- saxes events ----------------------------------------------------------------------------------

  private tagStarted(name: string): void {
    if (this.event) return;

    const local = localName(name);
    if (local === 'Events') return this.nameMarkup('the <Events> start tag');
    const start = this.buffer.lastIndexOf('<', this.parser.position - this.base - 1);
    if (local !== 'Event') throw this.outsideError(`element <${name}>`, start);
    if (start < 0) throw this.tooLarge(this.baseLine);

    const at = this.base + start;
    this.event = { start: at, line: this.lineAt(start), countedTo: at, bytes: 0, frames: [] };
  }

  private nameMarkup(what: string): void {
    if (this.gap.kind === 'markup') this.gap.what = what;
  }

  private tagOpened(tag: SaxesTagPlain): void {
    const frames = this.event?.frames;
    if (!frames) return;

    const parent = frames.at(-1);
    const name = localName(tag.name);
    const rule: Rule = !parent ? 'event' : parent.rule === 'event' ? sectionRule(name) : parent.rule;
    frames.push({ name, rule, attributes: tag.attributes, text: '', members: undefined });
  }

  private tagClosed(): void {
    const event = this.event;
    if (!event) return;

    const frame = event.frames.pop() as Frame;
    const parent = event.frames.at(-1);
    if (parent) addChild(parent, frame);
    else this.finishEvent(event, frame);
  }

  private finishEvent(event: OpenEvent, frame: Frame): void {
    const end = this.parser.position - this.base;
    const text = this.buffer.slice(event.start - this.base, end);
    if (Buffer.byteLength(text) > this.maxRecordBytes) throw this.tooLarge(event.line);

    this.out.push({ position: this.position++, line: event.line, value: eventValue(frame), text });
    this.event = undefined;
  }

  /** Text inside an event; between events saxes is handed no text (readGap refuses it first). */
  private textRead(text: string, what: string): void {
    const frame = this.event?.frames.at(-1);
    if (!frame) throw this.outsideText(what, this.baseLine);

    if (frame.rule !== 'skip' && frame.rule !== 'event') frame.text += text;
  }

  private instructionRead(target: string): void {
    if (this.event) return;

    const start = this.buffer.lastIndexOf(`<?${target}`, this.parser.position - this.base - 1);
    throw this.outsideError(`processing instruction <?${target}?>`, start);
  }

  // ---- places and errors -----------------------------------------------------------------------------

  /** Line of buffer index `index`; lines are counted from the last index asked for, so once overall. */
  private lineAt(index: number): number {
    if (index < this.cursor) {
      this.cursor = 0;
      this.cursorLine = this.baseLine;
    }
    for (let k = this.buffer.indexOf('\n', this.cursor); k >= 0 && k < index; k = this.buffer.indexOf('\n', k + 1)) {
      this.cursorLine++;
    }
    this.cursor = index;

    return this.cursorLine;
  }

  /** Line, column (bytes) and byte offset of buffer index `index`. */
  private placeAt(index: number): TextPlace {
    const at = Math.min(Math.max(index, 0), this.buffer.length);
    const before = this.buffer.slice(0, at);
    const lastBreak = before.lastIndexOf('\n');
    const bytes = Buffer.byteLength(before);
    const inLine = lastBreak >= 0 ? Buffer.byteLength(before.slice(lastBreak + 1)) : this.baseColumnBytes + bytes;

    return { line: this.lineAt(at), column: inLine + 1, offset: this.baseByte + bytes };
  }

  /** Where a fault is, in a message: "line 3 column 7 in record 2" or "... outside any record". */
  private spot(place: TextPlace): string {
    const record = this.event ? `in record ${this.position}` : 'outside any record';

    return `line ${place.line} column ${place.column} ${record}`;
  }

  private details(place: TextPlace): Record<string, unknown> {
    return this.event ? { ...place, record: this.position } : { ...place };
  }

  /** A saxes error ("line:column: message"), placed at the character saxes stopped at. */
  private syntaxError(saxesMessage: string): BodyParseError {
    const place = this.placeAt(this.parser.position - this.base - 1);
    const what = saxesMessage.replace(/^\d+:\d+: /, '').replace(/\.$/, '');
    if (/doctype/i.test(what)) {
      const refused = 'is refused: DTDs and entity declarations are not read';

      return new BodyParseError(`a DOCTYPE declaration at ${this.spot(place)} ${refused}`, this.details(place));
    }

    return this.invalidXml(place, what);
  }

  /** A fault in a skipped comment, placed at the character after `before` (the skipped text up to it). */
  private gapSyntaxError(before: string, what: string): BodyParseError {
    this.skip(before);

    return this.invalidXml(this.placeAt(0), what);
  }

  private invalidXml(place: TextPlace, what: string): BodyParseError {
    return new BodyParseError(`invalid XML at ${this.spot(place)}: ${what}`, this.details(place));
  }

  private outsideError(what: string, start: number): BodyParseError {
    const place = start >= 0 ? this.placeAt(start) : { line: this.baseLine };
    const where = 'column' in place ? `line ${place.line} column ${place.column}` : `line ${place.line}`;
    const message = `${what} at ${where} is not an <Event>: only <Event> elements, alone or inside <Events>, are read`;

    return new BodyParseError(message, { ...place });
  }

  private strayTextError(stray: Stray): BodyParseError {
    return this.outsideText(`text ${JSON.stringify(stray.excerpt.trim())}`, stray.line);
  }

  private outsideText(what: string, line: number): BodyParseError {
    return new BodyParseError(`${what} at line ${line} is outside any <Event> element`, { line });
  }

  private markupTooLarge(markup: Markup): Error {
    if (markup.what === undefined) return this.tooLarge(markup.line);

    return recordTooLarge(this.maxRecordBytes, { what: markup.what, line: markup.line });
  }

  private tooLarge(line: number): Error {
    return recordTooLarge(this.maxRecordBytes, { record: this.position, line });
  }
}

/** `comment` or `cdata` once `pending` (from a '<' between events) is one, `markup` once it cannot be. */
function markupKind(pending: string): 'comment' | 'cdata' | 'markup' | undefined {
  if (pending === COMMENT_OPEN) return 'comment';
  if (pending === CDATA_OPEN) return 'cdata';

  return COMMENT_OPEN.startsWith(pending) || CDATA_OPEN.startsWith(pending) ? undefined : 'markup';
}

/** What markup from a '<' between events is, when its start says it cannot be an event's start tag. */
function markupWhat(pending: string): string | undefined {
  if (pending.startsWith('<?')) return 'a processing instruction';
  if (pending.startsWith('<!')) return 'a markup declaration';

  return pending.startsWith('</') ? 'an end tag' : undefined;
}

/** Index after the '>' closing a tag (one outside quotes), or -1 when the tag goes on past `stop`. */
function tagEnd(parsed: string, from: number, stop: number, markup: Markup): number {
  for (let k = from; k < stop; k++) {
    const char = parsed[k];
    if (markup.quote !== '') {
      if (char === markup.quote) markup.quote = '';
    } else if (char === '"' || char === "'") {
      markup.quote = char;
    } else if (char === '>') {
      return k + 1;
    }
  }

  return -1;
}

// ---- values --------------------------------------------------------------------------------------------

function sectionRule(name: string): Rule {
  if (name === 'System') return 'system';

  return name === 'EventData' || name === 'UserData' ? 'data' : 'skip';
}

function addChild(parent: Frame, child: Frame): void {
  if (child.rule === 'skip') return;

  parent.members ??= new Members();
  if (parent.rule === 'event') parent.members.add(child.name, child.members?.toObject() ?? {});
  else if (child.rule === 'system') parent.members.add(child.name, systemValue(child));
  else addDataChild(parent.members, child);
}

/** `<Data Name='X'>` by its Name, `<Data>` into the `Data` list, anything else by its name. */
function addDataChild(members: Members, child: Frame): void {
  const dataName = child.name === 'Data' ? child.attributes.Name : undefined;
  if (dataName !== undefined) members.add(dataName, child.text);
  else if (child.name === 'Data') members.addToList('Data', child.text);
  else members.add(child.name, child.members ? elementObject(child) : child.text);
}

function systemValue(frame: Frame): unknown {
  if (frame.members) return elementObject(frame);

  const attributes = attributeMembers(frame.attributes);
  if (frame.text === '') return attributes.toObject();
  if (attributes.size === 0) return frame.text;

  attributes.add('#text', frame.text);

  return attributes.toObject();
}

/** An element holding elements: its attributes, its children, and its text unless that is only whitespace. */
function elementObject(frame: Frame): Record<string, unknown> {
  const members = attributeMembers(frame.attributes);
  const children = (frame.members as Members).toObject();
  for (const name of Object.keys(children)) members.add(name, children[name]);
  if (frame.text.trim() !== '') members.add('#text', frame.text);

  return members.toObject();
}

function attributeMembers(attributes: Record<string, string>): Members {
  const members = new Members();
  for (const name of Object.keys(attributes)) {
    if (!isNamespaceDeclaration(name)) members.add(localName(name), attributes[name]);
  }

  return members;
}

function eventValue(frame: Frame): Record<string, unknown> {
  const sections = frame.members?.toObject() ?? {};
  const value: Record<string, unknown> = { System: sections.System ?? {}, EventData: sections.EventData ?? {} };
  if (sections.UserData !== undefined) value.UserData = sections.UserData;

  return value;
}

function localName(name: string): string {
  const colon = name.indexOf(':');

  return colon < 0 ? name : name.slice(colon + 1);
}

function isNamespaceDeclaration(name: string): boolean {
  return name === 'xmlns' || name.startsWith('xmlns:');
}

function countBreaks(text: string, from: number): number {
  let breaks = 0;
  for (let k = text.indexOf('\n', from); k >= 0; k = text.indexOf('\n', k + 1)) breaks++;

  return breaks;
}
