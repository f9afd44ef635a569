import { describe, expect, it } from 'vitest';

import { InvalidInputError } from '../../../src/common/domain.errors.js';
import {
  canonicalContent,
  contentEventKey,
  eventKey,
  reportEventKey,
  sortKeysDeep,
} from '../../../src/ingest/mappers/event-key.js';
import { mapMdeRow, mapStreamingRecord, mapUnionRow } from '../../../src/ingest/mappers/mde.mapper.js';
import type { MapResult } from '../../../src/ingest/event.types.js';
import { readCsvText } from './csv.test-helper.js';

function keyOf(result: MapResult): string {
  if (result.kind !== 'event') throw new Error(`expected an event, got ${JSON.stringify(result)}`);

  return result.event.eventKey;
}

/** One DeviceEvents event without a ReportId, written three ways below. */
const CSV_EXPORT = [
  'Timestamp,DeviceId,DeviceName,ActionType,FileName,ProcessId,InitiatingProcessId,InitiatingProcessFileName,' +
    'InitiatingProcessCreationTime,RemotePort,IsInitiatingProcessRemoteSession,ReportId,AdditionalFields',
  '2023-10-18T15:35:50.16621Z,dev-1,host-1,OpenProcessApiCall,lsass.exe,2264,4180,mssense.exe,' +
    '2023-10-18T09:00:00.1Z,,False,,"{""DesiredAccess"":5200,""Nested"":{""b"":1,""a"":[""x"",""""]}}"',
].join('\r\n');

const JSON_ROW = {
  DeviceName: 'host-1',
  DeviceId: 'dev-1',
  Timestamp: '2023-10-18T15:35:50.1662100Z',
  ActionType: 'OpenProcessApiCall',
  FileName: 'lsass.exe',
  ProcessId: 2264,
  InitiatingProcessId: 4180,
  InitiatingProcessFileName: 'mssense.exe',
  InitiatingProcessCreationTime: '2023-10-18T11:00:00.1+02:00',
  IsInitiatingProcessRemoteSession: false,
  ReportId: null,
  RemotePort: null,
  AdditionalFields: { Nested: { a: ['x', ''], b: 1 }, DesiredAccess: 5200 },
};

const NDJSON_LINE =
  '{"category":"AdvancedHunting-DeviceEvents","time":"2023-10-18T16:00:00Z","properties":{' +
  '"ActionType":"OpenProcessApiCall","AdditionalFields":"{\\"Nested\\":{\\"b\\":1,\\"a\\":[\\"x\\",\\"\\"]},' +
  '\\"DesiredAccess\\":5200}","DeviceId":"dev-1","DeviceName":"host-1","FileName":"lsass.exe",' +
  '"InitiatingProcessCreationTime":"2023-10-18T09:00:00.1000000Z","InitiatingProcessFileName":"mssense.exe",' +
  '"InitiatingProcessId":4180,"IsInitiatingProcessRemoteSession":false,"ProcessId":"2264",' +
  '"Timestamp":"2023-10-18T15:35:50.16621Z","MachineGroup":""}}';

describe('eventKey', () => {
  it('is r:<canonical timestamp>:<reportId> when the row has a ReportId', () => {
    const row = { Timestamp: '2023-07-19T14:09:43.87Z', ReportId: 18984951960, DeviceId: 'd' };

    expect(eventKey(row)).toBe('r:2023-07-19T14:09:43.8700000Z:18984951960');
    expect(reportEventKey('2023-07-19T14:09:43.8700000Z', '18984951960')).toBe(eventKey(row));
  });

  it('reads the ReportId of a union export from its suffixed column, number or text alike', () => {
    const fromLong = eventKey({ Timestamp: '2021-08-02T13:15:30.513652Z', ReportId_long: 113771 });
    const fromText = eventKey({ Timestamp: '2021-08-02 13:15:30.5136520', ReportId_string: '113771' });

    expect(fromLong).toBe('r:2021-08-02T13:15:30.5136520Z:113771');
    expect(fromText).toBe(fromLong);
  });

  it('gives the same content key to one event exported as CSV, JSON and NDJSON', async () => {
    const [{ value: csvRow }] = await readCsvText(CSV_EXPORT);
    const envelope = JSON.parse(NDJSON_LINE) as { properties: Record<string, unknown> };
    const keys = [eventKey(csvRow), eventKey(JSON_ROW), eventKey(envelope.properties)];

    expect(keys[0]).toMatch(/^h:[0-9a-f]{64}$/);
    expect(new Set(keys).size).toBe(1);
  });

  it('gives the mapped events of the three shapes the same eventKey', async () => {
    const [csvRecord] = await readCsvText(CSV_EXPORT);
    const envelope = JSON.parse(NDJSON_LINE) as Record<string, unknown>;
    const keys = [
      keyOf(mapUnionRow(csvRecord)),
      keyOf(mapMdeRow({ position: 0, value: JSON_ROW }, 'DeviceEvents')),
      keyOf(mapStreamingRecord({ position: 0, value: envelope })),
    ];

    expect(keys).toEqual([eventKey(JSON_ROW), eventKey(JSON_ROW), eventKey(JSON_ROW)]);
  });

  it('changes the content key when any value changes', () => {
    const base = contentEventKey(JSON_ROW);

    expect(contentEventKey({ ...JSON_ROW, ProcessId: 2265 })).not.toBe(base);
    expect(contentEventKey({ ...JSON_ROW, FileName: 'LSASS.EXE' })).not.toBe(base);
    expect(contentEventKey({ ...JSON_ROW, AdditionalFields: { DesiredAccess: 5201 } })).not.toBe(base);
  });

  it('throws InvalidInputError for a bad Timestamp', () => {
    expect(() => eventKey({ Timestamp: 'soon', ReportId: 1 })).toThrow(InvalidInputError);
  });
});

describe('canonicalContent', () => {
  it('sorts keys at every depth and drops absent columns', () => {
    const text = canonicalContent({ b: 1, a: { d: 1, c: [{ z: 1, y: 2 }] }, e: '', f: null, g: ' ' });

    expect(text).toBe('{"a":{"c":[{"y":2,"z":1}],"d":1},"b":1}');
  });

  it('canonicalises known numeric, time, boolean and dynamic columns only', () => {
    const text = canonicalContent({
      ProcessId: '42',
      FileName: '42',
      Timestamp: '2023-10-18 14:37:28',
      IsProcessRemoteSession: 'TRUE',
      AdditionalFields: '{"b":2,"a":1}',
      LocalPort: '80.5',
    });

    expect(JSON.parse(text)).toEqual({
      AdditionalFields: { a: 1, b: 2 },
      FileName: '42',
      IsProcessRemoteSession: true,
      LocalPort: '80.5',
      ProcessId: 42,
      Timestamp: '2023-10-18T14:37:28.0000000Z',
    });
  });

  it('hashes a bad time as given instead of throwing', () => {
    expect(canonicalContent({ ProcessCreationTime: 'n/a' })).toBe('{"ProcessCreationTime":"n/a"}');
  });

  it('sortKeysDeep copies values with keys in sorted order and leaves __proto__ out', () => {
    const value = JSON.parse('[{"b":1,"a":{"d":null,"c":"x"},"__proto__":{"p":1}},2]') as unknown;
    const sorted = sortKeysDeep(value);

    expect(JSON.stringify(sorted)).toBe('[{"a":{"c":"x","d":null},"b":1},2]');
    expect(value).not.toBe(sorted);
  });

  it('orders integer-like keys the same way whatever the input order', () => {
    const one = canonicalContent({ AdditionalFields: '{"b":1,"10":2,"2":3}' });
    const two = canonicalContent({ AdditionalFields: { '2': 3, b: 1, '10': 2 } });

    expect(one).toBe('{"AdditionalFields":{"2":3,"10":2,"b":1}}');
    expect(two).toBe(one);
  });
});
