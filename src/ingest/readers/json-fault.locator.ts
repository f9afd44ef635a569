/**
 * Finds where and why a JSON text is invalid. The readers delimit values with a fast scanner and
 * let JSON.parse judge them; only when JSON.parse refuses a value does this slower, exact pass run
 * over its bytes to name the first bad byte. Iterative, so deep nesting cannot overflow the stack.
 */
import { BodyParseError } from '../../common/domain.errors.js';
import type { TextPlace } from './record.types.js';
import {
  QUOTE,
  BACKSLASH,
  LBRACE,
  RBRACE,
  LBRACKET,
  RBRACKET,
  COMMA,
  COLON,
  MINUS,
  NL,
  ZERO,
  NINE,
} from './byte.codes.js';

export interface JsonFault {
  /** Byte index of the fault in the scanned bytes (their length when they end too early). */
  index: number;
  what: string;
  expected?: string;
}

const ESCAPABLE = new Set([...'"\\/bfnrt'].map((ch) => ch.charCodeAt(0)));
const LITERALS = new Map([...['true', 'false', 'null']].map((word) => [word.charCodeAt(0), word]));

const VALUE = 0;
const KEY = 1;
const AFTER = 2;
const DONE = 3;
type Mode = typeof VALUE | typeof KEY | typeof AFTER | typeof DONE;

/** The first syntax fault in `bytes`, which should hold exactly one JSON value; undefined if valid. */
export function locateJsonFault(bytes: Uint8Array, ending = 'body'): JsonFault | undefined {
  return new FaultFinder(bytes, ending).find();
}

/** How one byte reads in a message: `character '}'`, `character U+0007`, `end of body`. */
export function describeByte(bytes: Uint8Array, index: number, ending = 'body'): string {
  if (index >= bytes.length) return `end of ${ending}`;

  const code = bytes[index];
  if (code > 0x20 && code < 0x7f) return `character '${String.fromCharCode(code)}'`;
  if (code === 0x20) return `character ' '`;
  if (code < 0x80) return `character U+${code.toString(16).toUpperCase().padStart(4, '0')}`;

  const decoded = Buffer.from(bytes.buffer, bytes.byteOffset + index, Math.min(4, bytes.length - index));
  const point = decoded.toString('utf8').codePointAt(0) ?? 0xfffd;

  return `character '${String.fromCodePoint(point)}'`;
}

/** The place of byte `index` of `bytes`, when byte 0 of `bytes` sits at `start`. */
export function placeWithin(bytes: Uint8Array, index: number, start: TextPlace): TextPlace {
  let line = start.line;
  let lastBreak = -1;
  for (let k = bytes.indexOf(NL); k !== -1 && k < index; k = bytes.indexOf(NL, k + 1)) {
    line++;
    lastBreak = k;
  }

  const column = lastBreak < 0 ? start.column + index : index - lastBreak;

  return { line, column, offset: start.offset + index };
}

export function faultMessage(fault: JsonFault, where: string): string {
  const expected = fault.expected ? `, expected ${fault.expected}` : '';

  return `${fault.what} at ${where}${expected}`;
}

/** The error for a fault in a body read as one JSON text. */
export function bodyFault(fault: JsonFault, place: TextPlace): BodyParseError {
  const message = faultMessage(fault, `line ${place.line} column ${place.column}`);

  return new BodyParseError(message, { line: place.line, column: place.column, offset: place.offset });
}

class FaultFinder {
  private i = 0;
  private readonly stack: number[] = [];

  constructor(
    private readonly b: Uint8Array,
    private readonly ending: string,
  ) {}

  find(): JsonFault | undefined {
    let mode: Mode = VALUE;
    while (mode !== DONE) {
      this.skipSpace();
      const step: Mode | JsonFault = mode === VALUE ? this.value() : mode === KEY ? this.key() : this.after();
      if (typeof step !== 'number') return step;
      mode = step;
    }

    return undefined;
  }

  private value(): Mode | JsonFault {
    const c = this.b[this.i];
    if (c === LBRACE || c === LBRACKET) return this.open(c);
    if (c === QUOTE) return this.string() ?? AFTER;
    if (c === MINUS || (c >= ZERO && c <= NINE)) return this.number() ?? AFTER;
    if (LITERALS.has(c)) return this.literal(LITERALS.get(c) as string) ?? AFTER;

    return this.unexpected('a value');
  }

  private open(c: number): Mode {
    const close = c === LBRACE ? RBRACE : RBRACKET;
    this.stack.push(c);
    this.i++;
    this.skipSpace();
    if (this.b[this.i] !== close) return c === LBRACE ? KEY : VALUE;

    this.stack.pop();
    this.i++;

    return AFTER;
  }

  private key(): Mode | JsonFault {
    if (this.b[this.i] !== QUOTE) return this.unexpected('a property name in double quotes');

    const fault = this.string();
    if (fault) return fault;
    this.skipSpace();
    if (this.b[this.i] !== COLON) return this.unexpected("':'");
    this.i++;

    return VALUE;
  }

  private after(): Mode | JsonFault {
    const top = this.stack.at(-1);
    if (top === undefined) return this.i < this.b.length ? this.unexpected('nothing more after the value') : DONE;

    const close = top === LBRACE ? RBRACE : RBRACKET;
    const c = this.b[this.i];
    if (c === COMMA) {
      this.i++;

      return top === LBRACE ? KEY : VALUE;
    }
    if (c !== close) return this.unexpected(top === LBRACE ? "',' or '}'" : "',' or ']'");

    this.stack.pop();
    this.i++;

    return AFTER;
  }

  private string(): JsonFault | undefined {
    const b = this.b;
    let j = this.i + 1;
    while (j < b.length && b[j] !== QUOTE) {
      const c = b[j];
      if (c < 0x20) return { index: j, what: `${c === NL ? 'line break' : describeByte(b, j)} inside a string` };
      if (c === BACKSLASH) {
        const fault = this.escape(j);
        if (fault) return fault;
        j += b[j + 1] === 0x75 ? 6 : 2;
      } else {
        j++;
      }
    }
    if (j >= b.length) return this.endInside('a string');

    this.i = j + 1;

    return undefined;
  }

  private escape(j: number): JsonFault | undefined {
    const b = this.b;
    if (j + 1 >= b.length) return this.endInside('a string');
    if (ESCAPABLE.has(b[j + 1])) return undefined;
    if (b[j + 1] !== 0x75) return { index: j + 1, what: `invalid escape '\\${String.fromCharCode(b[j + 1])}'` };

    for (let k = j + 2; k < j + 6; k++) {
      if (k >= b.length) return this.endInside('a string');
      if (!isHexDigit(b[k])) return { index: k, what: `invalid \\u escape (${describeByte(b, k)})` };
    }

    return undefined;
  }

  private number(): JsonFault | undefined {
    const b = this.b;
    let j = this.i;
    if (b[j] === MINUS) j++;
    if (b[j] === ZERO) j++;
    else if (isDigit(b[j])) j = skipDigits(b, j);
    else return this.unexpectedAt(j, 'a digit');

    if (b[j] === 0x2e) {
      if (!isDigit(b[j + 1])) return this.unexpectedAt(j + 1, 'a digit after the decimal point');
      j = skipDigits(b, j + 1);
    }
    if (b[j] === 0x65 || b[j] === 0x45) {
      j += b[j + 1] === 0x2b || b[j + 1] === MINUS ? 2 : 1;
      if (!isDigit(b[j])) return this.unexpectedAt(j, 'a digit in the exponent');
      j = skipDigits(b, j);
    }
    this.i = j;

    return undefined;
  }

  private literal(word: string): JsonFault | undefined {
    for (let k = 0; k < word.length; k++) {
      if (this.b[this.i + k] !== word.charCodeAt(k)) return this.unexpectedAt(this.i + k, `'${word}'`);
    }
    this.i += word.length;

    return undefined;
  }

  private unexpected(expected: string): JsonFault {
    return this.unexpectedAt(this.i, expected);
  }

  private unexpectedAt(index: number, expected: string): JsonFault {
    if (index >= this.b.length) return { ...this.endInside(this.inside()), expected };

    return { index, what: `unexpected ${describeByte(this.b, index)}`, expected };
  }

  private endInside(inside: string): JsonFault {
    return { index: this.b.length, what: `unexpected end of ${this.ending} inside ${inside}` };
  }

  private inside(): string {
    const top = this.stack.at(-1);
    if (top === undefined) return 'a value';

    return top === LBRACE ? 'an object' : 'an array';
  }

  private skipSpace(): void {
    const b = this.b;
    let j = this.i;
    while (j < b.length && (b[j] === 0x20 || b[j] === NL || b[j] === 0x0d || b[j] === 0x09)) j++;
    this.i = j;
  }
}

function isDigit(c: number | undefined): boolean {
  return c !== undefined && c >= ZERO && c <= NINE;
}

function isHexDigit(c: number): boolean {
  return isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

function skipDigits(b: Uint8Array, j: number): number {
  while (isDigit(b[j])) j++;

  return j;
}
