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
 * declaration: the declaration is checked here and handed to saxes as blanks of the same length, so saxes'
 * positions stay indexes into the text. Only the text of the open `<Event>` (or of a tag not yet complete)
 * is kept; an event is refused as soon as its bytes pass the record limit. DOCTYPE (and with it any entity
 * declaration) is refused; only the five predefined entities and character references are decoded.
 */
import { TextDecoder } from 'node:util';

import { SaxesParser, type SaxesTagPlain } from 'saxes';

import { BodyParseError } from '../../common/domain.errors.js';
import { DEFAULT_MAX_RECORD_BYTES, recordTooLarge } from './record.limit.js';
import type { SourceRecord, TextPlace } from './record.types.js';

/** Text handed to saxes at a time, so an event passing the limit is caught within one slice of it. */
const SLICE_CHARS = 64 * 1024;
/** The longest XML declaration waited for before the body is judged not to have a complete one. */
const MAX_DECLARATION_CHARS = 1024;
const XML_DECLARATION = '<?xml';
const UTF8_ENCODINGS = new Set(['utf-8', 'utf8', 'us-ascii', 'ascii']);
const BOM = '\uFEFF';
const BOM_BYTES = 3;
const LESS_THAN = 0x3c;

type Rule = 'event' | 'system' | 'data' | 'skip';

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
  /** Text kept from saxes position `base` on: the open event, or the start of a tag not yet complete. */
  private buffer = '';
  private base = 0;
  /** Line, byte offset and bytes since the line start at `buffer[0]`. */
  private baseLine = 1;
  private baseByte = 0;
  private baseColumnBytes = 0;
  /** A position in the buffer whose line is known, so lines are counted once. */
  private cursor = 0;
  private cursorLine = 1;
  /** Text before the XML declaration is judged (absent once it is). */
  private head: string | undefined = '';
  private event: OpenEvent | undefined;
  private position = 0;
  private out: SourceRecord[] = [];

  constructor(private readonly maxRecordBytes = DEFAULT_MAX_RECORD_BYTES) {
    this.parser.on('error', (error) => {
      throw this.syntaxError(error.message);
    });
    this.parser.on('opentagstart', (tag) => this.tagStarted(tag.name));
    this.parser.on('opentag', (tag) => this.tagOpened(tag));
    this.parser.on('closetag', () => this.tagClosed());
    this.parser.on('text', (text) => this.textRead(text, ''));
    this.parser.on('cdata', (text) => this.textRead(text, 'a CDATA section'));
    this.parser.on('processinginstruction', (pi) => this.instructionRead(pi.target));
  }

  /** Characters of the body kept now: the open event's text so far, or the start of an unfinished tag. */
  get keptChars(): number {
    return this.buffer.length;
  }

  feed(text: string): SourceRecord[] {
    this.out = [];
    if (this.head === undefined) this.write(text, text);
    else this.readHead(text, false);

    return this.out;
  }

  end(text = ''): SourceRecord[] {
    this.out = [];
    if (this.head === undefined) this.write(text, text);
    else this.readHead(text, true);
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

  // ---- feeding saxes and keeping only the text still needed ------------------------------------------

  /** Hands `parsed` (the text, its declaration blanked) to saxes slice by slice, keeping `text` meanwhile. */
  private write(text: string, parsed: string): void {
    for (let from = 0; from < text.length; from += SLICE_CHARS) {
      this.buffer += text.slice(from, from + SLICE_CHARS);
      this.parser.write(parsed.slice(from, from + SLICE_CHARS));
      if (this.event) this.keepEvent(this.event);
      else this.dropDone();
    }
  }

  /** Keeps only the open event's text and counts its bytes so far: they only grow, so past the limit it is refused. */
  private keepEvent(event: OpenEvent): void {
    this.drop(event.start - this.base);
    const end = this.base + this.buffer.length;
    event.bytes += Buffer.byteLength(this.buffer.slice(event.countedTo - this.base));
    event.countedTo = end;
    if (event.bytes > this.maxRecordBytes) throw this.tooLarge(event.line);
  }

  /**
   * Between events only an unfinished tag is kept, and not when it is already longer than any record: should
   * it turn out to be an <Event>, its start is gone and it is refused. A tag name holds no line break, so the
   * line where the kept text starts is then the line of that start.
   */
  private dropDone(): void {
    const lastTag = this.buffer.lastIndexOf('<');
    const keepFrom = lastTag >= 0 && this.buffer.length - lastTag <= this.maxRecordBytes ? lastTag : this.buffer.length;

    this.drop(keepFrom);
  }

  private drop(cut: number): void {
    if (cut === 0) return;

    const dropped = this.buffer.slice(0, cut);
    const lastBreak = dropped.lastIndexOf('\n');
    const bytes = Buffer.byteLength(dropped);
    this.baseLine = this.lineAt(cut);
    this.baseColumnBytes =
      lastBreak >= 0 ? Buffer.byteLength(dropped.slice(lastBreak + 1)) : this.baseColumnBytes + bytes;
    this.baseByte += bytes;
    this.buffer = this.buffer.slice(cut);
    this.base += cut;
    this.cursor = 0;
    this.cursorLine = this.baseLine;
  }

  // ---- saxes events ----------------------------------------------------------------------------------

  private tagStarted(name: string): void {
    if (this.event) return;

    const local = localName(name);
    if (local === 'Events') return;
    const start = this.buffer.lastIndexOf('<', this.parser.position - this.base - 1);
    if (local !== 'Event') throw this.outsideError(`element <${name}>`, start);
    if (start < 0) throw this.tooLarge(this.baseLine);

    const at = this.base + start;
    this.event = { start: at, line: this.lineAt(start), countedTo: at, bytes: 0, frames: [] };
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

  private textRead(text: string, what: string): void {
    const frame = this.event?.frames.at(-1);
    if (frame) {
      if (frame.rule !== 'skip' && frame.rule !== 'event') frame.text += text;

      return;
    }

    const first = text.search(/\S/);
    if (first < 0 && what === '') return;

    throw this.strayTextError(text, Math.max(first, 0), what);
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

    return new BodyParseError(`invalid XML at ${this.spot(place)}: ${what}`, this.details(place));
  }

  private outsideError(what: string, start: number): BodyParseError {
    const place = start >= 0 ? this.placeAt(start) : { line: this.baseLine };
    const where = 'column' in place ? `line ${place.line} column ${place.column}` : `line ${place.line}`;
    const message = `${what} at ${where} is not an <Event>: only <Event> elements, alone or inside <Events>, are read`;

    return new BodyParseError(message, { ...place });
  }

  /** Text outside events ends where saxes is now (at the next '<' or the body's end): count its lines back. */
  private strayTextError(text: string, first: number, what: string): BodyParseError {
    const now = this.parser.position - this.base;
    const end = this.buffer.charCodeAt(now - 1) === LESS_THAN ? now - 1 : now;
    const line = this.lineAt(Math.max(end, 0)) - countBreaks(text, first);
    const shown = what === '' ? `text ${JSON.stringify(text.trim().slice(0, 40))}` : what;

    return new BodyParseError(`${shown} at line ${line} is outside any <Event> element`, { line });
  }

  private tooLarge(line: number): Error {
    return recordTooLarge(this.maxRecordBytes, { record: this.position, line });
  }
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
