import { describe, expect, it } from 'vitest';

import { InvalidInputError, PayloadTooLargeError } from '../../../src/common/domain.errors.js';
import type { BodyFormat } from '../../../src/ingest/readers/body.reader.js';
import { DEFAULT_MAX_RECORD_BYTES, readRecords } from '../../../src/ingest/readers/record.reader.js';
import { chunkings, readAll, readError, streamOf } from './reader.helpers.js';

const bytes = (text: string) => Buffer.byteLength(text, 'utf8');
/** Multi-byte text, so a reader counting characters instead of bytes lets one record too many through. */
const WIDE = 'é'.repeat(60);
const BIG = `{"big":"${WIDE}x"}`;
const BIG_ROW = `["${WIDE}x"]`;
const BIG_CSV_QUOTED = `"${WIDE}\nx",y`;
const BIG_CSV_PLAIN = `${WIDE},z`;
const LIMIT_NAME = '(INGEST_MAX_RECORD_BYTES)';

interface LimitCase {
  name: string;
  format: Exclude<BodyFormat, 'xml'>;
  body: string;
  /** The text of the largest record, as the reader measures it. */
  big: string;
  record: number;
  line: number;
  count: number;
}

const CASES: LimitCase[] = [
  {
    name: 'JSON array element',
    format: 'json',
    body: `[\n{"a":1},\n${BIG},\n{"c":3}\n]`,
    big: BIG,
    record: 1,
    line: 3,
    count: 3,
  },
  {
    name: 'JSON top-level object',
    format: 'json',
    body: `{"a":1}\r\n${BIG} {"c":3}`,
    big: BIG,
    record: 1,
    line: 2,
    count: 3,
  },
  {
    name: 'AH Results row (envelope larger than the limit)',
    format: 'json',
    body: `{"Schema":[{"Name":"big"}],"Results":[["s"],\n${BIG_ROW}],"Stats":{}}`,
    big: BIG_ROW,
    record: 1,
    line: 2,
    count: 2,
  },
  {
    name: 'records envelope element (envelope larger than the limit)',
    format: 'json',
    body: `{"records":[{"a":1},\n${BIG}],"time":"t"}`,
    big: BIG,
    record: 1,
    line: 2,
    count: 2,
  },
  {
    name: 'NDJSON line, CRLF',
    format: 'ndjson',
    body: `{"a":1}\r\n${BIG}\r\n{"c":3}`,
    big: BIG,
    record: 1,
    line: 2,
    count: 3,
  },
  {
    name: 'NDJSON first line after a BOM',
    format: 'ndjson',
    body: `\uFEFF${BIG}\n{"c":3}`,
    big: BIG,
    record: 0,
    line: 1,
    count: 2,
  },
  {
    name: 'NDJSON array line',
    format: 'ndjson',
    body: `{"a":1}\n[${BIG},{"d":4}]`,
    big: `[${BIG},{"d":4}]`,
    record: 1,
    line: 2,
    count: 3,
  },
  {
    name: 'CSV quoted row over two lines, CRLF',
    format: 'csv',
    body: `a,b\r\n1,2\r\n${BIG_CSV_QUOTED}\r\n3,4\r\n`,
    big: BIG_CSV_QUOTED,
    record: 1,
    line: 3,
    count: 3,
  },
  {
    name: 'CSV plain row',
    format: 'csv',
    body: `a,b\n1,2\n${BIG_CSV_PLAIN}\n3,4`,
    big: BIG_CSV_PLAIN,
    record: 1,
    line: 3,
    count: 3,
  },
];

describe('record size limit: exactly at, one above and one below the largest record', () => {
  describe.each(CASES)('$name', ({ format, body, big, record, line, count }) => {
    const size = bytes(big);
    const ways = chunkings(Buffer.from(body, 'utf8'));

    it('reads every record when the limit is the record size or one more, however the body is cut', async () => {
      expect(size).toBeLessThan(bytes(body));
      for (const [way, chunks] of ways) {
        expect(await readAll(chunks, format, { maxRecordBytes: size }), way).toHaveLength(count);
        expect(await readAll(chunks, format, { maxRecordBytes: size + 1 }), way).toHaveLength(count);
      }
    });

    it('refuses the record one byte below its size, naming the record, its line and the limit', async () => {
      const limit = size - 1;
      const message = `record ${record} (line ${line}) exceeds the ${limit}-byte record limit ${LIMIT_NAME}`;
      for (const [way, chunks] of ways) {
        const error = await readError(chunks, format, { maxRecordBytes: limit });

        expect(error, way).toBeInstanceOf(PayloadTooLargeError);
        expect(error.message, way).toBe(message);
        expect((error as PayloadTooLargeError).details, way).toEqual({ limitBytes: limit, record, line });
      }
    });
  });
});

describe('record size limit: values that are not records', () => {
  it('measures the CSV header like a row, naming it', async () => {
    const header = `${WIDE},b`;
    const body = Buffer.from(`${header}\r\n1,2\r\n`);
    const limit = bytes(header) - 1;

    expect(await readAll([body], 'csv', { maxRecordBytes: limit + 1 })).toHaveLength(1);
    for (const [way, chunks] of chunkings(body)) {
      const error = await readError(chunks, 'csv', { maxRecordBytes: limit });

      expect(error, way).toBeInstanceOf(PayloadTooLargeError);
      expect(error.message).toBe(
        `the CSV header (line 1) exceeds the ${limit}-byte record limit (INGEST_MAX_RECORD_BYTES)`,
      );
      expect((error as PayloadTooLargeError).details).toEqual({ limitBytes: limit, line: 1 });
    }
  });

  it('measures an envelope member beside the records array', async () => {
    const body = Buffer.from(`{"records":[{"a":1}],\n"Stats":${BIG}}`);

    expect(await readAll([body], 'json', { maxRecordBytes: bytes(BIG) })).toHaveLength(1);
    const error = await readError([body], 'json', { maxRecordBytes: bytes(BIG) - 1 });
    expect(error).toBeInstanceOf(PayloadTooLargeError);
    expect(error.message).toMatch(/^an envelope member \(line 2\) exceeds/);
  });

  it('measures the head of an envelope before its records array as one value', async () => {
    const body = Buffer.from(`{"Schema":[{"Name":"${WIDE}"}],"Results":[]}`);
    const head = bytes(`{"Schema":[{"Name":"${WIDE}"}],"Results":`);

    expect(await readAll([body], 'json', { maxRecordBytes: head })).toEqual([]);
    const error = await readError([body], 'json', { maxRecordBytes: head - 1 });
    expect((error as PayloadTooLargeError).details).toEqual({ limitBytes: head - 1, record: 0, line: 1 });
  });
});

describe('record size limit: defaults and options', () => {
  it(`defaults to DEFAULT_MAX_RECORD_BYTES (${DEFAULT_MAX_RECORD_BYTES})`, async () => {
    const line = (size: number) => Buffer.from(`{"a":"${'x'.repeat(size - 8)}"}\n{"b":1}\n`);

    expect(DEFAULT_MAX_RECORD_BYTES).toBe(4 * 1024 * 1024);
    expect(await readAll([line(DEFAULT_MAX_RECORD_BYTES)], 'ndjson')).toHaveLength(2);
    const error = await readError([line(DEFAULT_MAX_RECORD_BYTES + 1)], 'ndjson');
    expect((error as PayloadTooLargeError).details).toEqual({
      limitBytes: DEFAULT_MAX_RECORD_BYTES,
      record: 0,
      line: 1,
    });
  });

  it.each([0, -1, 1.5, Number.NaN])('refuses a record limit of %s at once', (maxRecordBytes) => {
    expect(() => readRecords(streamOf([]), 'json', { batchSize: 10, maxRecordBytes })).toThrow(
      new InvalidInputError(`record limit must be a positive integer, got ${maxRecordBytes}`),
    );
  });
});

const MIB = 1024 * 1024;
const CHUNK = 64 * 1024;

/** A body that would go on for 100 MB in 64 KiB chunks after `prefix`, counting what was pulled. */
function endlessRecord(prefix: string, fill: string) {
  const chunk = Buffer.alloc(CHUNK, fill);
  const state = { pulled: 0, finished: false };
  async function* source(): AsyncGenerator<Buffer> {
    state.pulled += bytes(prefix);
    yield Buffer.from(prefix);
    while (state.pulled < 100 * MIB) {
      state.pulled += CHUNK;
      yield chunk;
    }
    state.finished = true;
  }

  return { state, source: source() };
}

describe('record size limit: memory stays bounded', () => {
  it.each([
    ['JSON array element', 'json', '[{"a":1},{"big":"', 'x', { record: 1, line: 1 }],
    ['JSON nested arrays', 'json', '[', '[', { record: 0, line: 1 }],
    ['JSON top-level object', 'json', '{"a":1}\n{"big":"', 'x', { record: 1, line: 2 }],
    ['AH Results row', 'json', '{"Schema":[{"Name":"a"}],"Results":[["', 'x', { record: 0, line: 1 }],
    ['records envelope element', 'json', '{"records":[{"a":1},{"a":"', 'x', { record: 1, line: 1 }],
    ['envelope member', 'json', '{"records":[],"Stats":"', 'x', { line: 1 }],
    ['NDJSON line', 'ndjson', '{"a":1}\n{"big":"', 'x', { record: 1, line: 2 }],
    ['NDJSON blank line', 'ndjson', '{"a":1}\n', ' ', { record: 1, line: 2 }],
    ['CSV plain row', 'csv', 'a\n1\n', 'x', { record: 1, line: 3 }],
    ['CSV quoted field', 'csv', 'a,b\n"', 'x', { record: 0, line: 2 }],
    ['CSV header', 'csv', '', 'x', { line: 1 }],
  ] as const)('%s: stops soon after 1 MiB of a 100 MB record', async (_, format, prefix, fill, spot) => {
    const { state, source } = endlessRecord(prefix, fill);
    let caught: unknown;
    try {
      for await (const batch of readRecords(source, format, { batchSize: 10, maxRecordBytes: MIB })) void batch;
    } catch (error) {
      caught = error;
    }

    expect(caught).toBeInstanceOf(PayloadTooLargeError);
    expect((caught as PayloadTooLargeError).details).toEqual({ limitBytes: MIB, ...spot });
    expect(state.finished).toBe(false);
    expect(state.pulled).toBeLessThanOrEqual(MIB + 2 * CHUNK);
  });
});
