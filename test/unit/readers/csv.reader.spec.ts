import { readFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { BodyParseError } from '../../../src/common/domain.errors.js';
import {
  chunkings,
  readAll,
  readError,
  realDataMissing,
  realDataPath,
  realDataTitle,
  splitEvery,
} from './reader.helpers.js';

const csv = (text: string) => Buffer.from(text, 'utf8');
const AH_CSV = 'dafneb-defender-hunting/advanced_hunting_test.csv';

describe('CSV reader', () => {
  it('maps each row to header -> string, empty fields to "", with positions and lines', async () => {
    const records = await readAll([csv('Timestamp,DeviceId,RemotePort\nt1,,9389\nt2,d2,\n')], 'csv');

    expect(records).toEqual([
      { position: 0, line: 2, value: { Timestamp: 't1', DeviceId: '', RemotePort: '9389' } },
      { position: 1, line: 3, value: { Timestamp: 't2', DeviceId: 'd2', RemotePort: '' } },
    ]);
  });

  it('reads quoted fields with commas, line breaks and doubled quotes, and counts lines through them', async () => {
    const body = 'a,b,c\r\n"x, y","line1\r\nline2","say ""hi"""\r\n"",plain,"{""k"":""v""}"\r\n';
    const records = await readAll([csv(body)], 'csv');

    expect(records).toEqual([
      { position: 0, line: 2, value: { a: 'x, y', b: 'line1\r\nline2', c: 'say "hi"' } },
      { position: 1, line: 4, value: { a: '', b: 'plain', c: '{"k":"v"}' } },
    ]);
  });

  it('strips a BOM, ignores blank and trailing empty lines, reads a last row without a newline', async () => {
    const body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), csv('a,b\n\n1,2\r\n\r\n3,4')]);
    const records = await readAll(splitEvery(body, 1), 'csv');

    expect(records.map((r) => [r.line, r.value])).toEqual([
      [3, { a: '1', b: '2' }],
      [5, { a: '3', b: '4' }],
    ]);
  });

  it('reads a header only, or nothing, as no records', async () => {
    expect(await readAll([csv('a,b\n')], 'csv')).toEqual([]);
    expect(await readAll([csv('a,b')], 'csv')).toEqual([]);
    expect(await readAll([csv('a,b\r\n\r\n')], 'csv')).toEqual([]);
    expect(await readAll([csv('')], 'csv')).toEqual([]);
  });

  describe('a body that is really JSON', () => {
    const JSON_BODIES = [
      ['an array on one line', '[{"a":1},{"a":2}]'],
      ['a pretty-printed object', '{\n  "a": 1,\n  "b": "x, y"\n}\n'],
      ['an array after a BOM and spaces', '\uFEFF \t [\n{"a":1}]'],
      ['an array after blank lines', '\r\n\n[{"a":1}]'],
    ];

    it.each(JSON_BODIES)('refuses %s, however it is cut', async (_, text) => {
      const line = text.startsWith('\r\n\n') ? 3 : 1;
      for (const [way, chunks] of chunkings(csv(text))) {
        const error = await readError(chunks, 'csv');

        expect(error, way).toBeInstanceOf(BodyParseError);
        expect(error.message).toBe('the body looks like JSON, not CSV; send Content-Type application/json');
        expect((error as BodyParseError).details).toEqual({ line });
      }
    });

    it('says so before a one-line JSON body can pass the record limit', async () => {
      const body = csv(JSON.stringify(Array.from({ length: 1000 }, (_, k) => ({ k }))));

      const error = await readError(splitEvery(body, 64), 'csv', { maxRecordBytes: 100 });
      expect(error).toBeInstanceOf(BodyParseError);
      expect(error.message).toMatch(/looks like JSON/);
    });

    it('still reads a CSV whose header or rows hold brackets and braces elsewhere', async () => {
      const records = await readAll([csv('a,[b]\n{x},[1]\n')], 'csv');

      expect(records).toEqual([{ position: 0, line: 2, value: { a: '{x}', '[b]': '[1]' } }]);
    });
  });

  // Its speed (linear, not quadratic, in the row length) is measured by bench/readers.bench.ts, not timed here.
  it('reads a 4 MB row with a million line breaks sent in 512-byte chunks', async () => {
    const row = `"${'x,\n'.repeat(1_300_000)}",y`;
    const body = csv(`a,b\n${row}\n1,2\n`);
    const records = await readAll(splitEvery(body, 512), 'csv');

    expect(records.map((r) => [r.line, r.value.b])).toEqual([
      [2, 'y'],
      [1_300_003, '2'],
    ]);
  });

  it('marks a row with the wrong field count as broken and goes on', async () => {
    const records = await readAll([csv('a,b,c\n1,2\n1,2,3,4\n"x",y,"z"\n')], 'csv');

    expect(records).toEqual([
      { position: 0, line: 2, value: {}, error: 'row has 2 fields, header has 3' },
      { position: 1, line: 3, value: {}, error: 'row has 4 fields, header has 3' },
      { position: 2, line: 4, value: { a: 'x', b: 'y', c: 'z' } },
    ]);
  });

  it('marks a row with text after a closing quote as broken and goes on', async () => {
    const records = await readAll([csv('a,b\n"x"y,2\n3,4\n')], 'csv');

    expect(records[0]).toEqual({ position: 0, line: 2, value: {}, error: 'field 1 has text after its closing quote' });
    expect(records[1].value).toEqual({ a: '3', b: '4' });
  });

  it('refuses an unterminated quote, naming the line where the field starts', async () => {
    const error = await readError([csv('a,b\n1,2\n3,"open\nmore\nstill open')], 'csv');

    expect(error).toBeInstanceOf(BodyParseError);
    expect(error.message).toBe('unterminated quoted field starting at line 3');
    expect((error as BodyParseError).details).toEqual({ line: 3 });
  });

  it('refuses a header that names a column twice', async () => {
    const error = await readError([csv('a,b,a\n1,2,3\n')], 'csv');

    expect(error).toBeInstanceOf(BodyParseError);
    expect(error.message).toBe('CSV header has the column name "a" twice (fields 1 and 3)');
  });

  it('keeps a column named __proto__ as an own property', async () => {
    const [record] = await readAll([csv('__proto__,b\nx,y\n')], 'csv');

    expect(Object.keys(record.value)).toEqual(['__proto__', 'b']);
    expect(Object.getPrototypeOf(record.value)).toBe(Object.prototype);
  });

  it('keeps header names with quotes, backslashes, line breaks and code-like text exactly', async () => {
    const names = ['a"b', 'c\\d', 'e\nf', "'g'", '${h}', '}; throw 1; ({', '\u2028', ''];
    const header = names.map((name) => `"${name.replaceAll('"', '""')}"`).join(',');
    const [record] = await readAll([csv(`${header}\n${names.map((_, k) => k).join(',')}\n`)], 'csv');

    expect(Object.entries(record.value)).toEqual(names.map((name, k) => [name, String(k)]));
  });

  it('reads a header of more than a thousand columns', async () => {
    const names = Array.from({ length: 1500 }, (_, k) => (k === 700 ? '__proto__' : `c${k}`));
    const [record] = await readAll([csv(`${names.join(',')}\n${names.map((_, k) => k).join(',')}\n`)], 'csv');

    expect(Object.keys(record.value)).toEqual(names);
    expect(record.value.c1499).toBe('1499');
    expect(Object.getPrototypeOf(record.value)).toBe(Object.prototype);
  });

  it('gives the same records however the body is cut, multi-byte characters included', async () => {
    const body = csv('\uFEFFname,"no""te",x\r\n"é,中",😀,"a\r\n""b"""\r\nplain,,\r\n"","short"\r\n"q","",""\r\n');
    const expected = await readAll([body], 'csv');
    expect(expected.map((r) => r.line)).toEqual([2, 4, 5, 6]);
    expect(expected.map((r) => r.error ?? r.value)).toEqual([
      { name: 'é,中', 'no"te': '😀', x: 'a\r\n"b"' },
      { name: 'plain', 'no"te': '', x: '' },
      'row has 2 fields, header has 3',
      { name: 'q', 'no"te': '', x: '' },
    ]);

    for (const [way, chunks] of chunkings(body)) {
      expect(await readAll(chunks, 'csv'), way).toEqual(expected);
    }
  });

  describe.skipIf(realDataMissing(AH_CSV))(realDataTitle('real Advanced Hunting CSV export', AH_CSV), () => {
    it('reads 26 records of 72 columns whose AdditionalFields hold JSON', async () => {
      const body = readFileSync(realDataPath(AH_CSV));
      const records = await readAll(splitEvery(body, 1000), 'csv');

      expect(records).toHaveLength(26);
      expect(records.every((r) => r.error === undefined && Object.keys(r.value).length === 72)).toBe(true);
      expect(records[0].line).toBe(2);
      const additional = records.map((r) => r.value.AdditionalFields as string).filter((text) => text !== '');
      expect(additional.length).toBeGreaterThan(0);
      for (const text of additional) expect(typeof JSON.parse(text)).toBe('object');
      expect(JSON.parse(records[1].value.AdditionalFields as string)).toMatchObject({ IsAudit: true });
    });

    it('reads the same in 1-byte chunks', async () => {
      const body = readFileSync(realDataPath(AH_CSV));

      expect(await readAll(splitEvery(body, 1), 'csv')).toEqual(await readAll([body], 'csv'));
    });
  });
});
