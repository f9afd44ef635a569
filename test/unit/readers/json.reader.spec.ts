import { describe, expect, it } from 'vitest';

import { BodyParseError } from '../../../src/common/domain.errors.js';
import { readJsonRecords } from '../../../src/ingest/readers/json.reader.js';
import { chunkings, readAll, readError, splitEvery } from './reader.helpers.js';

const json = (text: string) => Buffer.from(text, 'utf8');
const values = async (text: string) => (await readAll([json(text)], 'json')).map((r) => r.value);

const AH_SCHEMA = JSON.stringify([
  { Name: 'Timestamp', Type: 'DateTime' },
  { Name: 'DeviceId', Type: 'String' },
  { Name: 'RemotePort', Type: 'Int32' },
]);

describe('JSON reader: what a record is', () => {
  it('reads each element of a top-level array as a record, with positions and lines', async () => {
    const records = await readAll([json('[\n  {"a":1},\n  {"b":{"c":[1,2]}}\n]')], 'json');

    expect(records).toEqual([
      { position: 0, line: 2, value: { a: 1 } },
      { position: 1, line: 3, value: { b: { c: [1, 2] } } },
    ]);
  });

  it('reads an empty array, an empty body and whitespace as no records', async () => {
    expect(await values('[]')).toEqual([]);
    expect(await values('')).toEqual([]);
    expect(await values(' \r\n\t ')).toEqual([]);
  });

  it('keeps non-object array elements as records with an error, and goes on', async () => {
    const records = await readAll([json('[{"a":1}, 5, "x", null, [1], true, {"b":2}]')], 'json');

    expect(records.map((r) => r.error)).toEqual([
      undefined,
      'record is a number, not an object',
      'record is a string, not an object',
      'record is null, not an object',
      'record is an array, not an object',
      'record is a boolean, not an object',
      undefined,
    ]);
    expect(records[1].value).toEqual({});
    expect(records[6]).toEqual({ position: 6, line: 1, value: { b: 2 } });
  });

  it('reads concatenated top-level objects (NDJSON sent as json) with their lines', async () => {
    const records = await readAll([json('{"a":1}\n{"a":2} {"a":3}\r\n\n{"a":4}')], 'json');

    expect(records.map((r) => [r.value.a, r.line])).toEqual([
      [1, 1],
      [2, 2],
      [3, 2],
      [4, 4],
    ]);
  });

  it('reads any other top-level object as one record, including nested records keys', async () => {
    const body = '{"records":5,"x":{"records":[{"a":1}]},"Results":"no"}';

    expect(await values(body)).toEqual([{ records: 5, x: { records: [{ a: 1 }] }, Results: 'no' }]);
  });

  it('reads a top-level scalar as a broken record', async () => {
    const records = await readAll([json('42 "s" {"a":1}')], 'json');

    expect(records.map((r) => r.error ?? r.value)).toEqual([
      'record is a number, not an object',
      'record is a string, not an object',
      { a: 1 },
    ]);
  });

  it('is not fooled by braces, brackets, escaped quotes and backslashes inside strings', async () => {
    const tricky = { s: 'a}b]c{d[e', q: 'say "hi" \\', p: 'C:\\Windows\\', n: [[], [[{}]], { '}': '"' }] };
    const body = JSON.stringify([tricky, { k: '\\"' }, { e: '' }]);

    expect(await values(body)).toEqual([tricky, { k: '\\"' }, { e: '' }]);
  });

  it('keeps a key named __proto__ as an own property', async () => {
    const [value] = await values('{"__proto__":{"polluted":true},"a":1}');

    expect(Object.keys(value)).toEqual(['__proto__', 'a']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('JSON reader: Advanced Hunting responses and envelopes', () => {
  it('reads Results rows that are objects', async () => {
    const body = `{"Schema":${AH_SCHEMA},"Results":[{"Timestamp":"t1","DeviceId":"d1"},{"Timestamp":"t2"}]}`;

    expect(await values(body)).toEqual([{ Timestamp: 't1', DeviceId: 'd1' }, { Timestamp: 't2' }]);
  });

  it('zips Results rows that are arrays with the Schema column names', async () => {
    const body = `{"Schema":${AH_SCHEMA},"Stats":{"rows":2},"Results":[["t1","d1",9389],["t2","d2",null]]}`;

    expect(await values(body)).toEqual([
      { Timestamp: 't1', DeviceId: 'd1', RemotePort: 9389 },
      { Timestamp: 't2', DeviceId: 'd2', RemotePort: null },
    ]);
  });

  it('zips array rows with Schema names that look like code or __proto__, exactly', async () => {
    const names = ['__proto__', 'a"b', '}; throw 1; ({', 'c\\d'];
    const body = JSON.stringify({ Schema: names.map((Name) => ({ Name })), Results: [[1, 2, 3, 4]] });
    const [value] = await values(body);

    expect(Object.entries(value)).toEqual(names.map((name, k) => [name, k + 1]));
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
  });

  it('marks an array row with the wrong number of values, and goes on', async () => {
    const records = await readAll([json(`{"Schema":${AH_SCHEMA},"Results":[["t1"],["t2","d2",1]]}`)], 'json');

    expect(records[0]).toMatchObject({ position: 0, value: {}, error: 'row has 1 values, Schema has 3 columns' });
    expect(records[1].value).toEqual({ Timestamp: 't2', DeviceId: 'd2', RemotePort: 1 });
  });

  it('accepts Schema after Results when rows are objects', async () => {
    const body = `{"Results":[{"DeviceId":"d1"}],"Schema":${AH_SCHEMA},"Stats":{"a":[1]}}`;

    expect(await values(body)).toEqual([{ DeviceId: 'd1' }]);
  });

  it.each([
    ['a string', '"x"'],
    ['null', 'null'],
    ['an object', '{"Name":"a"}'],
    ['an array of names', '["a"]'],
    ['objects without a string Name', '[{"Name":"a"},{"Type":"String"}]'],
  ])('refuses array rows when the Schema is %s, not an array of {Name, Type} objects', async (_, schema) => {
    const body = json(`{"Schema":${schema},\n"Results":[{"a":1},\n  ["a"]]}`);
    for (const chunks of [[body], splitEvery(body, 1)]) {
      const error = await readError(chunks, 'json');

      expect(error).toBeInstanceOf(BodyParseError);
      expect(error.message).toBe(
        'a Results row is a list of values but the Schema before Results is not an array of {Name, Type} objects' +
          ' (row at line 3 column 3)',
      );
      expect((error as BodyParseError).details).toMatchObject({ line: 3, column: 3 });
    }
  });

  it('reads object rows whatever the Schema is', async () => {
    expect(await values('{"Schema":"x","Results":[{"a":1}]}')).toEqual([{ a: 1 }]);
  });

  it('refuses array rows when Schema comes only after Results', async () => {
    const error = await readError([json(`{"Results":[["t1","d1",1]],"Schema":${AH_SCHEMA}}`)], 'json');

    expect(error).toBeInstanceOf(BodyParseError);
    expect(error.message).toMatch(/no Schema .* comes before Results/);
    expect((error as BodyParseError).details).toMatchObject({ line: 1, column: 13, offset: 12 });
  });

  it('reads each element of a records envelope as is, envelope fields kept', async () => {
    const row = { time: '2024-01-01T00:00:00Z', category: 'AdvancedHunting-DeviceEvents', properties: { a: 1 } };
    const body = JSON.stringify({ records: [row, { ...row, time: 't2' }, 7] });
    const records = await readAll([json(body)], 'json');

    expect(records.map((r) => r.value)).toEqual([row, { ...row, time: 't2' }, {}]);
    expect(records[2].error).toBe('record is a number, not an object');
  });

  it('reads consecutive envelopes and plain objects, with positions running on', async () => {
    const body = '{"records":[{"a":1}]}\n{"x":1,"records":[]}\n{"a":2}\n{"records":[{"a":3},{"a":4}]}';
    const records = await readAll([json(body)], 'json');

    expect(records.map((r) => [r.position, r.line, r.value])).toEqual([
      [0, 1, { a: 1 }],
      [1, 3, { a: 2 }],
      [2, 4, { a: 3 }],
      [3, 4, { a: 4 }],
    ]);
  });

  it('streams the Results array: rows arrive before the body has been read to its end', async () => {
    const rows = Array.from({ length: 2000 }, (_, k) => ({ n: k, pad: 'x'.repeat(40) }));
    const body = json(`{"Schema":[],"Results":${JSON.stringify(rows)}}`);
    const chunks = splitEvery(body, 1024);
    let pulled = 0;
    async function* counting() {
      for (const chunk of chunks) {
        pulled++;
        yield chunk;
      }
    }
    const pulledAtFirstBatch: number[] = [];
    let total = 0;
    for await (const batch of readJsonRecords(counting())) {
      if (total === 0) pulledAtFirstBatch.push(pulled);
      total += batch.length;
    }

    expect(total).toBe(2000);
    expect(pulledAtFirstBatch[0]).toBeLessThan(3);
    expect(chunks.length).toBeGreaterThan(80);
  });
});

describe('JSON reader: chunk boundaries', () => {
  const bodies: Array<[string, string]> = [
    ['array with tricky strings', '[{"s":"a\\"}]{[","n":-1.5e3},{"p":"C:\\\\x\\\\","u":"\\u00e9"},{"t":true}]'],
    ['AH response with array rows', `{"Schema":${AH_SCHEMA},"Results":[["t","d",1],{"DeviceId":"x"}],"Stats":{}}`],
    ['records envelope', '{"records":[{"time":"t","properties":{"a":[1,{"b":"}"}]}}]} {"z":null}'],
    ['concatenated values', '\uFEFF{"a":"é中😀"}\n7\n"s"\n{"b":[]}'],
  ];

  it.each(bodies)('%s gives the same records however it is cut', async (_name, text) => {
    const body = json(text);
    const expected = await readAll([body], 'json');
    expect(expected.length).toBeGreaterThan(1);

    for (const [way, chunks] of chunkings(body)) {
      expect(await readAll(chunks, 'json'), way).toEqual(expected);
    }
  });

  it('decodes multi-byte UTF-8 split across chunks', async () => {
    const text = '[{"name":"Ünïcødé 中文 😀","path":"C:\\\\Users\\\\José"}]';
    const records = await readAll(splitEvery(json(text), 1), 'json');

    expect(records[0].value).toEqual({ name: 'Ünïcødé 中文 😀', path: 'C:\\Users\\José' });
  });

  it('strips a BOM, even when it arrives one byte at a time', async () => {
    const body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), json('[{"a":1}]')]);

    expect((await readAll(splitEvery(body, 1), 'json')).map((r) => r.value)).toEqual([{ a: 1 }]);
  });

  it('counts columns on line 1 after the BOM and refuses a partial BOM', async () => {
    const bom = Buffer.from([0xef, 0xbb, 0xbf]);
    const after = await readError(splitEvery(Buffer.concat([bom, json('[x]')]), 1), 'json');
    const partial = await readError([Buffer.concat([bom.subarray(0, 2), json('[]')])], 'json');

    expect(after.message).toBe("unexpected character 'x' at line 1 column 2, expected a value");
    expect((after as BodyParseError).details).toEqual({ line: 1, column: 2, offset: 4 });
    expect(partial).toBeInstanceOf(BodyParseError);
    expect(await readError([bom.subarray(0, 2)], 'json')).toBeInstanceOf(BodyParseError);
  });
});

describe('JSON reader: malformed bodies', () => {
  // [name, body, message, line, column, byte offset]
  const cases: Array<[string, string, string, number, number, number]> = [
    ['missing comma between elements', '[{"a":1} {"b":2}]', "unexpected character '{' at line 1 column 10", 1, 10, 9],
    [
      'bad value inside a record',
      '[\n {"a":1},\n {"b":2, "c": }\n]',
      "unexpected character '}' at line 3 column 15",
      3,
      15,
      26,
    ],
    ['mismatched bracket', '[{"a":[1}, {"b":2}]', "unexpected character '}' at line 1 column 9", 1, 9, 8],
    ['trailing comma', '[{"a":1},]', "unexpected character ']' at line 1 column 10", 1, 10, 9],
    ['stray closing brace at top', '{"a":1}}', "unexpected character '}' at line 1 column 8", 1, 8, 7],
    ['line break inside a string', '[{"a":"x\ny"}]', 'line break inside a string at line 1 column 9', 1, 9, 8],
    ['bad literal', '[{"a":1}, tru ]', "unexpected character ' ' at line 1 column 14", 1, 14, 13],
    [
      'bad envelope head',
      '{"Stats":{"a":1},,"Results":[{"a":1}]}',
      "unexpected character ',' at line 1 column 18",
      1,
      18,
      17,
    ],
    ['garbage at top', ' @', "unexpected character '@' at line 1 column 2", 1, 2, 1],
    ['truncated array', '[{"a":1},\n{"b":2}', 'unexpected end of body at line 2 column 8 inside an array', 2, 8, 17],
    [
      'truncated string',
      '{"records":[{"a":"abc',
      'unexpected end of body at line 1 column 22 inside an object',
      1,
      22,
      21,
    ],
  ];

  it.each(cases)('%s: says what and where, the same in 1-byte chunks', async (_name, text, message, ...where) => {
    for (const chunks of [[json(text)], splitEvery(json(text), 1)]) {
      const error = await readError(chunks, 'json');

      expect(error).toBeInstanceOf(BodyParseError);
      expect(error.message).toContain(message);
      const [line, column, offset] = where;
      expect((error as BodyParseError).details).toEqual({ line, column, offset });
    }
  });

  it('counts the byte offset in bytes and the lines after multi-byte text', async () => {
    const error = await readError([json('[{"é":"中"},\n {"a": x}]')], 'json');

    expect((error as BodyParseError).details).toEqual({ line: 2, column: 8, offset: 22 });
  });
});
