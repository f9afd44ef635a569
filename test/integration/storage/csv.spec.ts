import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../../src/common/domain.errors.js';
import { JsonCell, toCsvLine } from '../../../src/database/csv.js';
import { createTestDatabase, type TestDatabase } from '../../support/test-database.js';

describe('toCsvLine', () => {
  it.each<[string, unknown[], string]>([
    ['null and undefined as empty unquoted fields', [null, undefined, 1], ',,1\n'],
    ['the empty string quoted', ['', null], '"",\n'],
    ['quotes doubled', ['say "hi"'], '"say ""hi"""\n'],
    ['commas and newlines inside quotes', ['a,b\nc\r\nd'], '"a,b\nc\r\nd"\n'],
    ['backslashes untouched', ['C:\\Windows\\System32\\'], '"C:\\Windows\\System32\\"\n'],
    ['numbers and bigints as they are', [42, -1.5, 12345678901234567890n], '42,-1.5,12345678901234567890\n'],
    ['booleans as words', [true, false], 'true,false\n'],
    ['objects as quoted JSON', [{ a: 'x"y', b: [1] }], '"{""a"":""x\\""y"",""b"":[1]}"\n'],
    ['a JsonCell string as a JSON string', [new JsonCell('v')], '"""v"""\n'],
    ['a JsonCell null as JSON null', [new JsonCell(null)], '"null"\n'],
    ['a date as ISO text', [new Date(Date.UTC(2024, 0, 2))], '"2024-01-02T00:00:00.000Z"\n'],
  ])('writes %s', (_name, values, expected) => {
    expect(toCsvLine(values)).toBe(expected);
  });

  it('refuses a NUL character in text and says which field', () => {
    const attempt = () => toCsvLine(['ok', 'a\u0000b']);

    expect(attempt).toThrow(InvalidInputError);
    expect(attempt).toThrow(expect.objectContaining({ details: { position: 1 } }));
  });

  it('refuses a NUL character anywhere in a JSON value, keys included', () => {
    expect(() => toCsvLine([{ nested: ['x\u0000'] }])).toThrow(InvalidInputError);
    expect(() => toCsvLine([{ ['k\u0000']: 1 }])).toThrow(InvalidInputError);
  });

  it('accepts the six characters \\u0000 written as text in JSON', () => {
    expect(toCsvLine([{ path: 'C:\\u0000' }])).toBe('"{""path"":""C:\\\\u0000""}"\n');
  });

  it('refuses numbers that no column can hold', () => {
    expect(() => toCsvLine([Number.NaN])).toThrow(InvalidInputError);
    expect(() => toCsvLine([Infinity])).toThrow(InvalidInputError);
  });
});

describe('toCsvLine read back by COPY (FORMAT csv)', () => {
  let testDb: TestDatabase;
  const cases: Array<{ t: string | null; j: unknown; n: number | null }> = [
    { t: '', j: { empty: '' }, n: 0 },
    { t: null, j: null, n: null },
    { t: 'plain', j: 'bare string', n: 1 },
    { t: '"quoted", with comma', j: { q: '"', c: ',' }, n: -2 },
    { t: 'line1\nline2\r\nline3', j: { nl: 'a\nb' }, n: 3 },
    { t: '\\.', j: ['\\.'], n: 4 },
    { t: 'C:\\Windows\\System32\\cmd.exe', j: { path: 'C:\\Temp\\x' }, n: 9_007_199_254_740_991 },
    { t: 'NULL', j: { s: 'NULL' }, n: 5 },
    { t: 'Ünïcødé 🛡️ 保护', j: { u: 'é\u2028\u00a0' }, n: 6 },
  ];

  beforeAll(async () => {
    testDb = await createTestDatabase();
    await testDb.db.query('CREATE TABLE csv_probe (i int, t text, j jsonb, n bigint)');
  });

  afterAll(async () => {
    await testDb?.cleanup();
  });

  it('gives back every value exactly, empty string and NULL kept apart', async () => {
    const csv = cases.map((c, i) => toCsvLine([i, c.t, c.j === null ? null : new JsonCell(c.j), c.n])).join('');

    await testDb.db.copyCsv('csv_probe', ['i', 't', 'j', 'n'], csv);

    const rows = await testDb.db.query<{ t: string | null; j: string | null; n: string | null }>(
      'SELECT t, j::text AS j, n::text AS n FROM csv_probe ORDER BY i',
    );
    const back = rows.rows.map((r) => ({
      t: r.t,
      j: r.j === null ? null : JSON.parse(r.j),
      n: r.n === null ? null : Number(r.n),
    }));
    expect(back).toEqual(cases);
  });
});
