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

const ndjson = (text: string) => Buffer.from(text, 'utf8');
const ELASTIC_FILE = 'elastic-m365-defender/device-and-network.ndjson';

describe('NDJSON reader', () => {
  it('reads one object per line with positions and lines; CRLF, blank lines and a missing last newline', async () => {
    const records = await readAll([ndjson('{"a":1}\r\n\n   \r\n{"a":2}\n{"a":3}')], 'ndjson');

    expect(records).toEqual([
      { position: 0, line: 1, value: { a: 1 } },
      { position: 1, line: 4, value: { a: 2 } },
      { position: 2, line: 5, value: { a: 3 } },
    ]);
  });

  it('expands envelope, AH response and array lines; keeps scalars as broken records', async () => {
    const lines = [
      '{"records":[{"time":"t1","properties":{"a":1}},{"time":"t2"}]}',
      '[{"b":1},2]',
      '{"Schema":[{"Name":"A"},{"Name":"B"}],"Results":[[1,2],{"A":3}]}',
      '"text"',
      '{"plain":{"records":[1]}}',
    ];
    const records = await readAll([ndjson(lines.join('\n'))], 'ndjson');

    expect(records.map((r) => [r.position, r.line, r.error ?? r.value])).toEqual([
      [0, 1, { time: 't1', properties: { a: 1 } }],
      [1, 1, { time: 't2' }],
      [2, 2, { b: 1 }],
      [3, 2, 'record is a number, not an object'],
      [4, 3, { A: 1, B: 2 }],
      [5, 3, { A: 3 }],
      [6, 4, 'record is a string, not an object'],
      [7, 5, { plain: { records: [1] } }],
    ]);
  });

  it('refuses an AH line with array rows but no Schema', async () => {
    const error = await readError([ndjson('{"a":1}\n{"Results":[[1,2]]}\n')], 'ndjson');

    expect(error).toBeInstanceOf(BodyParseError);
    expect(error.message).toMatch(/^line 2: .*no Schema/);
  });

  it('refuses an AH line with array rows whose Schema is not an array of {Name, Type} objects', async () => {
    const error = await readError([ndjson('{"a":1}\n{"Schema":"x","Results":[["a"]]}\n')], 'ndjson');

    expect(error).toBeInstanceOf(BodyParseError);
    expect(error.message).toBe(
      'line 2: a Results row is a list of values but the Schema before Results is not an array of {Name, Type} objects',
    );
    expect((error as BodyParseError).details).toEqual({ line: 2 });
  });

  it('strips a BOM on the first line and a JSON-seq record separator', async () => {
    const body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), ndjson('\x1e{"a":1}\n\x1e{"a":2}\n')]);

    expect((await readAll(splitEvery(body, 1), 'ndjson')).map((r) => r.value)).toEqual([{ a: 1 }, { a: 2 }]);
  });

  it('names the line, column and offset of a line that is not valid JSON', async () => {
    const body = ndjson('{"a":1}\n\n{"b":2}\n{"c":3,}\n{"d":4}\n');
    for (const chunks of [[body], splitEvery(body, 1), splitEvery(body, 5)]) {
      const error = await readError(chunks, 'ndjson');

      expect(error).toBeInstanceOf(BodyParseError);
      expect(error.message).toBe(
        "line 4 is not valid JSON: unexpected character '}' at column 8, expected a property name in double quotes",
      );
      expect((error as BodyParseError).details).toEqual({ line: 4, column: 8, offset: 24 });
    }
  });

  it('reports a line cut short and a multi-line object as invalid lines', async () => {
    const cut = await readError([ndjson('{"a":1}\n{"b":"x')], 'ndjson');
    const pretty = await readError([ndjson('{\n  "a": 1\n}\n')], 'ndjson');

    expect(cut.message).toBe('line 2 is not valid JSON: unexpected end of line inside a string at column 8');
    expect(pretty.message).toMatch(/^line 1 is not valid JSON: unexpected end of line inside an object/);
  });

  it('gives the same records however the body is cut, multi-byte characters included', async () => {
    const body = ndjson('{"n":"é中😀"}\r\n{"records":[{"a":"\\"}"}]}\n\n[{"b":1}]\n{"c":"C:\\\\x\\\\"}');
    const expected = await readAll([body], 'ndjson');
    expect(expected.map((r) => r.value)).toEqual([{ n: 'é中😀' }, { a: '"}' }, { b: 1 }, { c: 'C:\\x\\' }]);

    for (const [way, chunks] of chunkings(body)) {
      expect(await readAll(chunks, 'ndjson'), way).toEqual(expected);
    }
  });

  const elasticSuite = realDataTitle('real Elastic M365 Defender sample', ELASTIC_FILE);
  describe.skipIf(realDataMissing(ELASTIC_FILE))(elasticSuite, () => {
    it('reads the 18 streaming-API records with their envelope fields', async () => {
      const body = readFileSync(realDataPath(ELASTIC_FILE));
      const records = await readAll(splitEvery(body, 4096), 'ndjson');

      expect(records).toHaveLength(18);
      expect(records.map((r) => r.line)).toEqual(Array.from({ length: 18 }, (_, k) => k + 1));
      expect(records.every((r) => r.error === undefined)).toBe(true);
      expect(records.every((r) => typeof r.value.category === 'string' && typeof r.value.properties === 'object')).toBe(
        true,
      );
      expect(records[0].value.category).toBe('AdvancedHunting-DeviceEvents');
    });
  });
});
