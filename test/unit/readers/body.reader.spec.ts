import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';

import { describe, expect, it } from 'vitest';

import { BodyParseError, PayloadTooLargeError, UnsupportedMediaTypeError } from '../../../src/common/domain.errors.js';
import { bodyFormatOf, openBody, type OpenBodyOptions } from '../../../src/ingest/readers/body.reader.js';
import { splitEvery, streamOf } from './reader.helpers.js';

async function opened(chunks: Buffer[], opts: OpenBodyOptions): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const chunk of openBody(streamOf(chunks), opts)) out.push(chunk);

  return Buffer.concat(out);
}

async function openError(chunks: Buffer[], opts: OpenBodyOptions): Promise<Error> {
  try {
    await opened(chunks, opts);
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected openBody to fail');
}

const LIMIT = 1024 * 1024;

describe('bodyFormatOf', () => {
  it.each([
    ['application/json', 'json'],
    ['text/json', 'json'],
    ['Application/JSON; charset=utf-8', 'json'],
    ['application/x-ndjson', 'ndjson'],
    ['application/ndjson', 'ndjson'],
    ['application/jsonl', 'ndjson'],
    ['application/x-jsonlines ; charset=UTF-8', 'ndjson'],
    ['application/json-seq', 'ndjson'],
    ['text/csv; header=present', 'csv'],
    ['application/csv', 'csv'],
    ['application/xml', 'xml'],
    ['TEXT/XML', 'xml'],
  ])('maps %s to %s', (contentType, format) => {
    expect(bodyFormatOf(contentType)).toBe(format);
  });

  it.each([undefined, '', 'text/plain', 'application/octet-stream', 'constructor', 'multipart/form-data'])(
    'refuses %j, listing the accepted types',
    (contentType) => {
      const attempt = () => bodyFormatOf(contentType);

      expect(attempt).toThrow(UnsupportedMediaTypeError);
      expect(attempt).toThrow(/application\/json, text\/json, application\/x-ndjson.*text\/csv.*application\/xml/);
    },
  );

  const NOT_XML = ['json', 'ndjson', 'csv'] as const;
  const NOT_XML_TYPES = [
    'application/json',
    'text/json',
    'application/x-ndjson',
    'application/ndjson',
    'application/jsonl',
    'application/x-jsonlines',
    'application/json-seq',
    'text/csv',
    'application/csv',
  ];

  it.each([
    ['text/csv', 'csv'],
    ['application/x-ndjson', 'ndjson'],
    ['text/json; charset=utf-8', 'json'],
  ])('maps %s to %s when that format is accepted', (contentType, format) => {
    expect(bodyFormatOf(contentType, NOT_XML)).toBe(format);
  });

  it.each(['application/xml', 'text/xml; charset=utf-8', 'text/plain', undefined])(
    'refuses %j when only json, ndjson and csv are accepted, listing only their types',
    (contentType) => {
      let caught: unknown;
      try {
        bodyFormatOf(contentType, NOT_XML);
      } catch (error) {
        caught = error;
      }

      expect(caught).toBeInstanceOf(UnsupportedMediaTypeError);
      const { message, details } = caught as UnsupportedMediaTypeError;
      expect(message).toMatch(new RegExp(`; send one of: ${NOT_XML_TYPES.join(', ')}$`));
      expect(message).not.toMatch(/xml/i.test(contentType ?? '') ? /send one of:.*xml/ : /xml/);
      expect(details).toEqual({ contentType: contentType ?? null, accepted: NOT_XML_TYPES });
    },
  );

  it.each([
    ['application/xml; charset=utf-16', 'utf-16'],
    ['text/xml; Charset="UTF-16LE"', 'UTF-16LE'],
    ["application/xml;charset='windows-1252'", 'windows-1252'],
    ['TEXT/XML ; charset = iso-8859-1', 'iso-8859-1'],
    ['application/xml; charset=utf8', 'utf8'],
    ['application/xml; charset=', ''],
    ['application/xml; charset=utf-8; charset=utf-16', 'utf-16'],
  ])('refuses XML sent as %j up front, naming the charset %j', (contentType, charset) => {
    let caught: unknown;
    try {
      bodyFormatOf(contentType);
    } catch (error) {
      caught = error;
    }

    expect(caught).toBeInstanceOf(UnsupportedMediaTypeError);
    const { message, details } = caught as UnsupportedMediaTypeError;
    expect(message).toBe(
      `charset "${charset}" is not supported: the XML reader reads UTF-8 only; send the body as UTF-8`,
    );
    expect(details).toEqual({ contentType, charset, acceptedCharsets: ['utf-8', 'us-ascii'] });
  });

  it.each([
    'application/xml; charset=utf-8',
    'text/xml; charset=UTF-8',
    'application/xml; charset="utf-8"',
    "text/xml;CHARSET='US-ASCII'",
    'application/xml; charset=us-ascii',
    'application/xml; foo="a;charset=utf-16"; charset=utf-8',
    'application/xml; charsets=utf-16',
  ])('reads XML sent as %j', (contentType) => {
    expect(bodyFormatOf(contentType)).toBe('xml');
  });

  it.each([
    ['application/json; charset=utf-16', 'json'],
    ['application/x-ndjson; charset=iso-8859-1', 'ndjson'],
    ['text/csv; charset=windows-1252', 'csv'],
  ])('keeps mapping %s to %s: the charset check is for XML only', (contentType, format) => {
    expect(bodyFormatOf(contentType)).toBe(format);
  });

  it('refuses a UTF-16 XML type as not accepted, not for its charset, where XML is not accepted', () => {
    const attempt = () => bodyFormatOf('application/xml; charset=utf-16', ['json']);

    expect(attempt).toThrow(UnsupportedMediaTypeError);
    expect(attempt).toThrow(
      /^content type "application\/xml" is not accepted; send one of: application\/json, text\/json$/,
    );
  });

  it('refuses a known media type of a format not accepted, naming the type', () => {
    const attempt = () => bodyFormatOf('text/csv', ['json']);

    expect(attempt).toThrow(UnsupportedMediaTypeError);
    expect(attempt).toThrow(/^content type "text\/csv" is not accepted; send one of: application\/json, text\/json$/);
  });
});

describe('openBody', () => {
  const text = Buffer.from('{"a":"é"}\n'.repeat(500), 'utf8');

  it('passes an identity body through unchanged', async () => {
    expect(await opened(splitEvery(text, 7), { maxBytes: LIMIT })).toEqual(text);
    expect(await opened([text], { contentEncoding: 'identity', maxBytes: LIMIT })).toEqual(text);
    expect(await opened([], { maxBytes: LIMIT })).toEqual(Buffer.alloc(0));
  });

  it.each(['gzip', 'x-gzip', ' GZIP '])('gunzips a body sent with Content-Encoding %j', async (encoding) => {
    const body = gzipSync(text);

    expect(await opened(splitEvery(body, 100), { contentEncoding: encoding, maxBytes: LIMIT })).toEqual(text);
  });

  it('gunzips a body that starts with the gzip magic bytes but has no header, even 1 byte at a time', async () => {
    expect(await opened(splitEvery(gzipSync(text), 1), { maxBytes: LIMIT })).toEqual(text);
  });

  it('gunzips several concatenated gzip members', async () => {
    const body = Buffer.concat([gzipSync(text), gzipSync(text)]);

    expect(await opened([body], { contentEncoding: 'gzip', maxBytes: LIMIT })).toEqual(Buffer.concat([text, text]));
  });

  it.each(['br', 'deflate', 'gzip, br', 'compress'])('refuses content encoding %j before reading', (encoding) => {
    let pulled = false;
    async function* body() {
      pulled = true;
      yield text;
    }

    expect(() => openBody(body(), { contentEncoding: encoding, maxBytes: LIMIT })).toThrow(UnsupportedMediaTypeError);
    expect(pulled).toBe(false);
  });

  it('refuses a body over the limit, naming the limit', async () => {
    const error = await openError(splitEvery(text, 64), { maxBytes: text.length - 1 });

    expect(error).toBeInstanceOf(PayloadTooLargeError);
    expect(error.message).toBe(`body exceeds the ${text.length - 1}-byte limit (INGEST_MAX_BYTES)`);
    expect((error as PayloadTooLargeError).details).toEqual({ limitBytes: text.length - 1 });
    expect(await opened([text], { maxBytes: text.length })).toEqual(text);
  });

  it('refuses a gzip body whose decompressed size is over the limit', async () => {
    const body = gzipSync(text);
    const error = await openError([body], { contentEncoding: 'gzip', maxBytes: body.length * 2 });

    expect(body.length * 2).toBeLessThan(text.length);
    expect(error).toBeInstanceOf(PayloadTooLargeError);
    expect(error.message).toMatch(/^body exceeds/);
  });

  it('refuses a gzip body whose compressed size is over the limit', async () => {
    const incompressible = randomBytes(64 * 1024);
    const body = gzipSync(incompressible);
    const error = await openError(splitEvery(body, 1024), { maxBytes: 32 * 1024 });

    expect(error).toBeInstanceOf(PayloadTooLargeError);
    expect(error.message).toBe('compressed body exceeds the 32768-byte limit (INGEST_MAX_BYTES)');
    expect((error as PayloadTooLargeError).details).toEqual({ limitBytes: 32 * 1024 });
  });

  it('stops reading a zip bomb soon after the limit instead of inflating it', async () => {
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024), { level: 1 });
    const chunks = splitEvery(bomb, 1024);
    let pulled = 0;
    async function* body() {
      for (const chunk of chunks) {
        pulled++;
        yield chunk;
      }
    }
    let inflated = 0;
    let caught: unknown;
    try {
      for await (const chunk of openBody(body(), { maxBytes: LIMIT })) inflated += chunk.length;
    } catch (error) {
      caught = error;
    }

    expect(caught).toBeInstanceOf(PayloadTooLargeError);
    expect(inflated).toBeLessThanOrEqual(LIMIT);
    expect(chunks.length).toBeGreaterThan(200);
    expect(pulled).toBeLessThan(chunks.length / 4);
  });

  it('reports a corrupt or truncated gzip body as unparseable', async () => {
    const gz = gzipSync(text);
    const corrupt = Buffer.concat([gz.subarray(0, 10), Buffer.alloc(50, 0xff)]);
    const truncated = gz.subarray(0, gz.length - 20);

    for (const body of [corrupt, truncated]) {
      const error = await openError([body], { maxBytes: LIMIT });

      expect(error).toBeInstanceOf(BodyParseError);
      expect(error.message).toMatch(/^gzip body cannot be decompressed/);
    }
  });

  it('releases the source when the consumer stops early', async () => {
    let finished = false;
    async function* body() {
      try {
        for (;;) yield gzipSync(text);
      } finally {
        finished = true;
      }
    }
    for await (const chunk of openBody(body(), { maxBytes: LIMIT * 100 })) {
      expect(chunk.length).toBeGreaterThan(0);
      break;
    }
    await new Promise((done) => setTimeout(done, 10));

    expect(finished).toBe(true);
  });
});
