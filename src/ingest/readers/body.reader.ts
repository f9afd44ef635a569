/**
 * The request body before any format is read: which format the Content-Type names, and the bytes
 * themselves, gunzipped when the Content-Encoding says gzip or the body starts with the gzip magic
 * bytes, and cut off with PayloadTooLargeError as soon as they pass the limit (compressed or not),
 * so a zip bomb is never inflated beyond one zlib chunk past the limit.
 */
import { Readable, pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';

import {
  BodyParseError,
  DomainError,
  PayloadTooLargeError,
  UnsupportedMediaTypeError,
} from '../../common/domain.errors.js';

export type BodyFormat = 'json' | 'ndjson' | 'csv' | 'xml';

export interface OpenBodyOptions {
  /** The Content-Encoding header: gzip, x-gzip, identity or absent. */
  contentEncoding?: string;
  /** Largest body accepted, counted both before and after decompression. */
  maxBytes: number;
}

const MEDIA_TYPES = new Map<string, BodyFormat>([
  ['application/json', 'json'],
  ['text/json', 'json'],
  ['application/x-ndjson', 'ndjson'],
  ['application/ndjson', 'ndjson'],
  ['application/jsonl', 'ndjson'],
  ['application/x-jsonlines', 'ndjson'],
  ['application/json-seq', 'ndjson'],
  ['text/csv', 'csv'],
  ['application/csv', 'csv'],
  ['application/xml', 'xml'],
  ['text/xml', 'xml'],
]);

const ALL_FORMATS: readonly BodyFormat[] = ['json', 'ndjson', 'csv', 'xml'];
/** Charsets an XML body may name: the XML reader decodes UTF-8 only, of which US-ASCII is a subset. */
const XML_CHARSETS = ['utf-8', 'us-ascii'];
/** One `; name=value` parameter of a Content-Type, the value a quoted string or a token. */
const PARAMETER = /;\s*([^\s;=]+)\s*=\s*("(?:[^"\\]|\\.)*"|'[^']*'|[^;]*)/g;
const GZIP_MAGIC = [0x1f, 0x8b];

/**
 * The format a Content-Type names. With `accepted`, a media type of any other format is refused
 * too (415), and the message lists only the media types of the accepted formats. An XML type naming
 * a charset other than UTF-8 or US-ASCII is refused (415) as well; JSON and CSV types may name any.
 */
export function bodyFormatOf(
  contentType: string | undefined,
  accepted: readonly BodyFormat[] = ALL_FORMATS,
): BodyFormat {
  const mediaType = (contentType ?? '').split(';')[0].trim().toLowerCase();
  const format = MEDIA_TYPES.get(mediaType);
  if (format === 'xml' && accepted.includes(format)) checkXmlCharset(contentType ?? '');
  if (format && accepted.includes(format)) return format;

  const types = [...MEDIA_TYPES].filter(([, named]) => accepted.includes(named)).map(([type]) => type);
  const sent = mediaType === '' ? 'no content type was sent' : `content type "${mediaType}" is not accepted`;
  throw new UnsupportedMediaTypeError(`${sent}; send one of: ${types.join(', ')}`, {
    contentType: contentType ?? null,
    accepted: types,
  });
}

/** Refuses a charset the XML reader cannot decode before any of the body is read. */
function checkXmlCharset(contentType: string): void {
  const charset = charsetsOf(contentType).find((named) => !XML_CHARSETS.includes(named.toLowerCase()));
  if (charset === undefined) return;

  const message = `charset "${charset}" is not supported: the XML reader reads UTF-8 only; send the body as UTF-8`;
  throw new UnsupportedMediaTypeError(message, { contentType, charset, acceptedCharsets: XML_CHARSETS });
}

/** The values of a Content-Type's charset parameters, unquoted. */
function charsetsOf(contentType: string): string[] {
  const parameters = [...contentType.matchAll(PARAMETER)];

  return parameters.filter(([, name]) => name.toLowerCase() === 'charset').map(([, , value]) => unquoted(value));
}

function unquoted(value: string): string {
  const trimmed = value.trim();
  if (/^".*"$/s.test(trimmed)) return trimmed.slice(1, -1).replace(/\\(.)/g, '$1');

  return /^'[^']*'$/.test(trimmed) ? trimmed.slice(1, -1) : trimmed;
}

/** The body's bytes, decompressed and size-limited. Throws at once for an unknown content encoding. */
export function openBody(body: AsyncIterable<Buffer>, opts: OpenBodyOptions): AsyncIterable<Buffer> {
  const gzipDeclared = isGzipEncoding(opts.contentEncoding);

  return decodedBody(body, gzipDeclared, opts.maxBytes);
}

function isGzipEncoding(contentEncoding: string | undefined): boolean {
  const encoding = (contentEncoding ?? '').trim().toLowerCase();
  if (encoding === '' || encoding === 'identity') return false;
  if (encoding === 'gzip' || encoding === 'x-gzip') return true;

  throw new UnsupportedMediaTypeError(`content encoding "${encoding}" is not supported; send gzip or identity`, {
    contentEncoding,
    accepted: ['gzip', 'x-gzip', 'identity'],
  });
}

async function* decodedBody(body: AsyncIterable<Buffer>, gzipDeclared: boolean, maxBytes: number) {
  const iterator = body[Symbol.asyncIterator]();
  const head = await readHead(iterator, GZIP_MAGIC.length);
  const whole = chained(head.chunks, head.done ? undefined : iterator);
  const gzip = gzipDeclared || startsWithGzipMagic(head.chunks);
  const counted = limited(whole, maxBytes, gzip ? 'compressed body' : 'body');

  yield* gzip ? gunzipped(counted, maxBytes) : counted;
}

/** Reads whole chunks until at least `bytes` bytes are in hand (or the body ends). */
async function readHead(iterator: AsyncIterator<Buffer>, bytes: number) {
  const chunks: Buffer[] = [];
  let size = 0;
  while (size < bytes) {
    const next = await iterator.next();
    if (next.done) return { chunks, done: true };
    chunks.push(next.value);
    size += next.value.length;
  }

  return { chunks, done: false };
}

async function* chained(head: Buffer[], iterator: AsyncIterator<Buffer> | undefined): AsyncGenerator<Buffer> {
  try {
    yield* head;
    for (let next = await iterator?.next(); next && !next.done; next = await iterator?.next()) yield next.value;
  } finally {
    await iterator?.return?.();
  }
}

function startsWithGzipMagic(chunks: Buffer[]): boolean {
  const head = Buffer.concat(chunks).subarray(0, GZIP_MAGIC.length);

  return head.length === GZIP_MAGIC.length && head.every((byte, k) => byte === GZIP_MAGIC[k]);
}

async function* gunzipped(source: AsyncIterable<Buffer>, maxBytes: number): AsyncGenerator<Buffer> {
  const inflater = pipeline(Readable.from(source, { objectMode: false }), createGunzip(), () => {
    // errors reach the consumer through the inflater's iterator below
  });
  try {
    yield* limited(inflater, maxBytes, 'body');
  } catch (error) {
    throw asBodyError(error);
  }
}

async function* limited(source: AsyncIterable<Buffer>, maxBytes: number, what: string): AsyncGenerator<Buffer> {
  let total = 0;
  for await (const chunk of source) {
    total += chunk.length;
    if (total > maxBytes) throw tooLarge(maxBytes, what);
    yield chunk;
  }
}

function tooLarge(maxBytes: number, what: string): PayloadTooLargeError {
  return new PayloadTooLargeError(`${what} exceeds the ${maxBytes}-byte limit (INGEST_MAX_BYTES)`, {
    limitBytes: maxBytes,
  });
}

/** zlib failures mean a broken gzip body (400); anything else (a dropped connection) passes as is. */
function asBodyError(error: unknown): unknown {
  if (error instanceof DomainError) return error;

  const code = (error as { code?: unknown }).code;
  if (typeof code !== 'string' || !code.startsWith('Z_')) return error;

  return new BodyParseError(`gzip body cannot be decompressed: ${(error as Error).message}`, { zlibCode: code });
}
