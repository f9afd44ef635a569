import { describe, expect, it } from 'vitest';

import { InvalidInputError } from '../../../src/common/domain.errors.js';
import {
  canonicalTimestamp,
  isAbsent,
  parseDynamic,
  parseInteger,
  parseLong,
  parsePort,
  parseProcessId,
  parseTimestamp,
  readIpAddress,
  readString,
  stripUnionSuffixes,
  unionBaseName,
} from '../../../src/ingest/mappers/normalize.js';

/** Runs `fn`, expects an InvalidInputError and returns its details. */
function fieldErrorOf(fn: () => unknown): { field?: unknown; message: string } {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidInputError);
    const invalid = error as InvalidInputError;
    return { field: invalid.details?.field, message: invalid.message };
  }
  throw new Error('expected an InvalidInputError');
}

describe('isAbsent', () => {
  it.each([null, undefined, '', ' ', '\t \r\n', '\u00a0'])('treats %j as absent', (value) => {
    expect(isAbsent(value)).toBe(true);
  });

  it.each([0, false, 'a', ' a ', '-', 'é', {}, []])('treats %j as present', (value) => {
    expect(isAbsent(value)).toBe(false);
  });
});

describe('unionBaseName / stripUnionSuffixes', () => {
  it.each([
    ['ReportId_long', 'ReportId'],
    ['ReportId_string', 'ReportId'],
    ['AdditionalFields_dynamic', 'AdditionalFields'],
    ['Timestamp_datetime', 'Timestamp'],
    ['X_int', 'X'],
    ['X_real', 'X'],
    ['X_bool', 'X'],
    ['X_guid', 'X'],
    ['X_timespan', 'X'],
    ['X_decimal', 'X'],
  ])('reads %s as %s', (key, base) => {
    expect(unionBaseName(key)).toBe(base);
  });

  it.each(['ReportId', 'Foo_bar', '_long', 'Timestamp_'])('leaves %s alone', (key) => {
    expect(unionBaseName(key)).toBeNull();
  });

  it('returns the same object when no column is suffixed', () => {
    const row = { ReportId: 1, Foo_bar: 2 };

    expect(stripUnionSuffixes(row)).toBe(row);
  });

  it('renames a suffixed column and leaves the input untouched', () => {
    const row = { DeviceId: 'd', ReportId_long: 113597, ReportId_string: '' };

    expect(stripUnionSuffixes(row)).toEqual({ DeviceId: 'd', ReportId: 113597 });
    expect(row).toEqual({ DeviceId: 'd', ReportId_long: 113597, ReportId_string: '' });
  });

  it('keeps a non-empty plain column over any suffixed variant, wherever it stands', () => {
    expect(stripUnionSuffixes({ ReportId_long: 1, ReportId: 2 })).toEqual({ ReportId: 2 });
    expect(stripUnionSuffixes({ ReportId: 2, ReportId_long: 1 })).toEqual({ ReportId: 2 });
  });

  it('takes a suffixed variant when the plain column is empty', () => {
    expect(stripUnionSuffixes({ ReportId: '', ReportId_long: 7 })).toEqual({ ReportId: 7 });
    expect(stripUnionSuffixes({ ReportId_long: 7, ReportId: null })).toEqual({ ReportId: 7 });
  });

  it('takes the first non-empty of several variants', () => {
    expect(stripUnionSuffixes({ A_string: '', A_dynamic: { x: 1 }, A_long: 3 })).toEqual({ A: { x: 1 } });
    expect(stripUnionSuffixes({ A_long: 3, A_string: 'x' })).toEqual({ A: 3 });
  });

  it('gives null when every variant is empty', () => {
    expect(stripUnionSuffixes({ A_string: '', A_dynamic: null })).toEqual({ A: null });
  });

  it('never writes a __proto__ key', () => {
    const row = JSON.parse('{"__proto___string":{"polluted":1},"__proto__":{"polluted":2},"B_long":1}') as Record<
      string,
      unknown
    >;
    const out = stripUnionSuffixes(row);

    expect(out).toEqual({ B: 1 });
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
  });
});

describe('readString', () => {
  it('keeps text exactly, spaces included', () => {
    expect(readString(' MsSense.exe ', 'FileName')).toBe(' MsSense.exe ');
  });

  it.each(['', '   ', null, undefined])('reads %j as null', (value) => {
    expect(readString(value, 'FileName')).toBeNull();
  });

  it('writes numbers and booleans as text', () => {
    expect(readString(12, 'DeviceName')).toBe('12');
    expect(readString(false, 'DeviceName')).toBe('false');
  });

  it('refuses an object, naming the field', () => {
    expect(fieldErrorOf(() => readString({}, 'DeviceName'))).toEqual({
      field: 'DeviceName',
      message: 'DeviceName must be a string',
    });
  });
});

describe('parseInteger and its range checks', () => {
  it.each([
    [4180, 4180],
    ['4180', 4180],
    ['0', 0],
    ['-5', -5],
    ['', null],
    [' ', null],
    [null, null],
  ])('reads %j as %j', (value, expected) => {
    expect(parseInteger(value, 'ProcessId')).toBe(expected);
  });

  it.each(['4180.0', '4,180', ' 4180', '0x10', 'abc', 4180.5, Number.NaN, '9007199254740993', true, {}])(
    'refuses %j, naming the field',
    (value) => {
      expect(fieldErrorOf(() => parseInteger(value, 'InitiatingProcessId'))).toEqual({
        field: 'InitiatingProcessId',
        message: 'InitiatingProcessId must be an integer',
      });
    },
  );

  it('accepts ports 0..65535 as numbers or text', () => {
    expect(parsePort(0, 'LocalPort')).toBe(0);
    expect(parsePort('65535', 'LocalPort')).toBe(65535);
    expect(parsePort('', 'LocalPort')).toBeNull();
  });

  it.each([65536, -1, '70000'])('refuses port %j', (value) => {
    expect(fieldErrorOf(() => parsePort(value, 'RemotePort')).field).toBe('RemotePort');
  });

  it('accepts pid 0 and refuses a negative pid', () => {
    expect(parseProcessId(0, 'ProcessId')).toBe(0);
    expect(parseProcessId('4180', 'ProcessId')).toBe(4180);
    expect(fieldErrorOf(() => parseProcessId(-1, 'ProcessId')).field).toBe('ProcessId');
  });
});

describe('parseLong (ReportId, unique ids)', () => {
  it.each([
    [2833, '2833'],
    [18984951960, '18984951960'],
    ['18984951960', '18984951960'],
    ['12345678901234567890123', '12345678901234567890123'],
    ['007', '7'],
    ['-0', '0'],
    ['1152921504606846977', '1152921504606846977'],
    ['', null],
  ])('reads %j as %j', (value, expected) => {
    expect(parseLong(value, 'ReportId')).toBe(expected);
  });

  // 2 ** 60 + 1 arrives from JSON.parse as 2 ** 60: a number beyond 2^53 has already lost its exact value.
  it.each([1.5, '1.0', 'abc', '3ab932f1-c0d9_20940', {}, 2 ** 60])('refuses %j, naming the field', (value) => {
    expect(fieldErrorOf(() => parseLong(value, 'ReportId')).field).toBe('ReportId');
  });
});

describe('parseTimestamp', () => {
  it.each([
    ['2023-10-18T14:37:28Z', '2023-10-18T14:37:28.0000000Z'],
    ['2023-10-18T14:37:28.2Z', '2023-10-18T14:37:28.2000000Z'],
    ['2023-10-18T14:37:28.20Z', '2023-10-18T14:37:28.2000000Z'],
    ['2023-10-18T14:37:28.201Z', '2023-10-18T14:37:28.2010000Z'],
    ['2023-10-18T14:37:28.2012Z', '2023-10-18T14:37:28.2012000Z'],
    ['2022-11-09T17:43:28.18835Z', '2022-11-09T17:43:28.1883500Z'],
    ['2022-11-07T17:07:41.698868Z', '2022-11-07T17:07:41.6988680Z'],
    ['2023-10-18T14:37:28.2012261Z', '2023-10-18T14:37:28.2012261Z'],
  ])('pads %s to seven digits', (value, expected) => {
    expect(parseTimestamp(value, 'Timestamp')).toBe(expected);
  });

  it.each([
    ['2023-10-18T14:37:28.201', '2023-10-18T14:37:28.2010000Z'],
    ['2023-10-18 14:37:28.201226', '2023-10-18T14:37:28.2012260Z'],
    ['2023-10-18 14:37:28', '2023-10-18T14:37:28.0000000Z'],
    ['2023-10-18t14:37:28.1z', '2023-10-18T14:37:28.1000000Z'],
  ])('reads %s (no zone, space separator or lower case) as UTC', (value, expected) => {
    expect(parseTimestamp(value, 'Timestamp')).toBe(expected);
  });

  it.each([
    ['2023-10-18T16:37:28.1234567+02:00', '2023-10-18T14:37:28.1234567Z'],
    ['2023-10-18T16:37:28.1234567+0200', '2023-10-18T14:37:28.1234567Z'],
    ['2023-10-18T00:30:00.0000001+01:00', '2023-10-17T23:30:00.0000001Z'],
    ['2023-12-31T22:00:00.5-05:00', '2024-01-01T03:00:00.5000000Z'],
    ['2024-03-01T00:59:59.9999999+01:00', '2024-02-29T23:59:59.9999999Z'],
    ['2023-10-18T14:37:28.000001-00:00', '2023-10-18T14:37:28.0000010Z'],
    ['2023-10-18T09:07:28.42-05:30', '2023-10-18T14:37:28.4200000Z'],
  ])('converts %s to UTC keeping every fractional digit', (value, expected) => {
    expect(parseTimestamp(value, 'Timestamp')).toBe(expected);
  });

  it.each([
    ['10/18/2023 2:37:28.201 PM', '2023-10-18T14:37:28.2010000Z'],
    ['10/18/2023 12:05:00 AM', '2023-10-18T00:05:00.0000000Z'],
    ['1/2/2023 12:00:00 PM', '2023-01-02T12:00:00.0000000Z'],
  ])('reads the portal display form %s as UTC', (value, expected) => {
    expect(parseTimestamp(value, 'Timestamp')).toBe(expected);
  });

  it.each(['', '  ', null, undefined])('reads %j as null', (value) => {
    expect(parseTimestamp(value, 'Timestamp')).toBeNull();
  });

  it.each([
    '2023-13-01T00:00:00Z',
    '2023-02-29T00:00:00Z',
    '2023-04-31T00:00:00Z',
    '2023-10-18T24:00:00Z',
    '2023-10-18T14:60:00Z',
    '2023-10-18T14:37:60Z',
    '2023-10-18T14:37:28.12345678Z',
    '2023-10-18T14:37:28+25:00',
    '2023-10-18T14:37:28.Z',
    '2023-10-18',
    '2023-10-18T14:37Z',
    'yesterday',
    '13/18/2023 2:37:28 PM',
    '10/18/2023 13:37:28 PM',
    1697639848201,
  ])('refuses %j, naming the field', (value) => {
    expect(fieldErrorOf(() => parseTimestamp(value, 'ProcessCreationTime')).field).toBe('ProcessCreationTime');
  });

  it('canonicalTimestamp requires a value', () => {
    expect(canonicalTimestamp('2023-10-18T16:37:28+02:00')).toBe('2023-10-18T14:37:28.0000000Z');
    expect(fieldErrorOf(() => canonicalTimestamp('', 'from'))).toEqual({ field: 'from', message: 'from is required' });
  });
});

describe('parseDynamic (AdditionalFields)', () => {
  it('parses JSON text that holds an object or an array', () => {
    expect(parseDynamic('{"CallerProcessID":4248}')).toEqual({ CallerProcessID: 4248 });
    expect(parseDynamic(' [1,"a"]')).toEqual([1, 'a']);
  });

  it.each(['not json', '{broken', '"5"', '5'])('keeps %j as text', (value) => {
    expect(parseDynamic(value)).toBe(value);
  });

  it('keeps an object as it is and reads absent as null', () => {
    const fields = { rcode: '0' };

    expect(parseDynamic(fields)).toBe(fields);
    expect(parseDynamic(null)).toBeNull();
    expect(parseDynamic('')).toBeNull();
  });
});

describe('readIpAddress', () => {
  it.each(['81.2.69.142', '2a02:cf40::', '::1', 'fe80::1c2d:3e4f%12', '::ffff:10.0.0.1'])('keeps %s', (ip) => {
    expect(readIpAddress(ip, 'RemoteIP')).toBe(ip);
  });

  it.each(['-', 'localhost', '', null])('reads %j as null', (value) => {
    expect(readIpAddress(value, 'RemoteIP')).toBeNull();
  });
});
