import { describe, expect, it } from 'vitest';

import type { DefenderEvent, MapResult } from '../../../src/ingest/event.types.js';
import {
  mapEventsRecord,
  mapMdeRow,
  mapStreamingRecord,
  mapUnionRow,
  type SourceRecord,
} from '../../../src/ingest/mappers/mde.mapper.js';
import { EventTable } from '../../../src/vocabulary/graph.vocabulary.js';

function record(value: Record<string, unknown>, position = 3): SourceRecord {
  return { position, line: position + 1, value };
}

function eventOf(result: MapResult<DefenderEvent>): DefenderEvent {
  if (result.kind !== 'event') throw new Error(`expected an event, got ${JSON.stringify(result)}`);

  return result.event;
}

/** A DeviceEvents row as a portal CSV export gives it: every value is text, absent values are "". */
const CSV_DEVICE_ROW = {
  Timestamp: '2023-10-18T15:35:50.1662105Z',
  DeviceId: 'dev-1',
  DeviceName: ' Host-1 ',
  ActionType: 'OpenProcessApiCall',
  FileName: 'lsass.exe',
  FolderPath: 'C:\\Windows\\System32\\lsass.exe',
  ProcessId: '2264',
  ProcessCreationTime: '2023-10-18 09:00:00.5',
  ProcessUniqueId: '',
  InitiatingProcessId: '4180',
  InitiatingProcessFileName: 'mssense.exe',
  InitiatingProcessFolderPath: 'C:\\Program Files\\Windows Defender Advanced Threat Protection',
  InitiatingProcessCreationTime: '2023-10-18T11:00:00.1234567+02:00',
  InitiatingProcessParentId: '3120',
  InitiatingProcessUniqueId: '3940649673950041',
  ReportId: '14142',
  AdditionalFields: '{"DesiredAccess":5200}',
  RemoteIP: '',
};

const JSON_NETWORK_ROW = {
  Timestamp: '2023-07-19T14:09:43.87347Z',
  DeviceId: 'dev-2',
  DeviceName: 'janeslaptop1',
  ActionType: 'ConnectionSuccess',
  RemoteIP: '-',
  RemotePort: 9389,
  RemoteUrl: '',
  LocalIP: 'fe80::1c2d:3e4f%12',
  LocalPort: '60697',
  Protocol: 'Tcp',
  InitiatingProcessId: 0,
  InitiatingProcessFileName: null,
  ReportId: 18984951960,
};

describe('mapMdeRow on the DeviceEvents route', () => {
  it('fills every typed field from text values and keeps raw as received', () => {
    const input = record(CSV_DEVICE_ROW);
    const event = eventOf(mapMdeRow(input, EventTable.DeviceEvents));

    expect(event).toEqual({
      table: 'DeviceEvents',
      eventKey: 'r:2023-10-18T15:35:50.1662105Z:14142',
      deviceId: 'dev-1',
      deviceName: ' Host-1 ',
      timestamp: '2023-10-18T15:35:50.1662105Z',
      reportId: '14142',
      actionType: 'OpenProcessApiCall',
      initiatingProcessId: 4180,
      initiatingProcessFileName: 'mssense.exe',
      initiatingProcessFolderPath: 'C:\\Program Files\\Windows Defender Advanced Threat Protection',
      initiatingProcessCreationTime: '2023-10-18T09:00:00.1234567Z',
      initiatingProcessParentId: 3120,
      initiatingProcessUniqueId: '3940649673950041',
      initiatingProcessParentCreationTime: null,
      initiatingProcessParentFileName: null,
      fileName: 'lsass.exe',
      folderPath: 'C:\\Windows\\System32\\lsass.exe',
      processId: 2264,
      processCreationTime: '2023-10-18T09:00:00.5000000Z',
      processUniqueId: null,
      raw: CSV_DEVICE_ROW,
    });
    expect(event.raw).toBe(input.value);
  });

  it('keys an event without ReportId by a content hash', () => {
    const { ReportId: _reportId, ...row } = CSV_DEVICE_ROW;
    const event = eventOf(mapMdeRow(record(row), EventTable.DeviceEvents));

    expect(event.reportId).toBeNull();
    expect(event.eventKey).toMatch(/^h:[0-9a-f]{64}$/);
  });

  it('folds union-suffixed columns, keeping raw with the suffixes', () => {
    const { ReportId: _reportId, ...rest } = CSV_DEVICE_ROW;
    const row = { ...rest, ReportId_long: 113597, ReportId_string: '' };
    const event = eventOf(mapMdeRow(record(row), EventTable.DeviceEvents));

    expect(event.reportId).toBe('113597');
    expect(event.raw).toEqual(row);
  });
});

describe('mapMdeRow on the DeviceNetworkEvents route', () => {
  it('fills the network fields and nulls an IP column that holds "-"', () => {
    const input = record(JSON_NETWORK_ROW);
    const event = eventOf(mapMdeRow(input, EventTable.DeviceNetworkEvents));

    expect(event).toMatchObject({
      table: 'DeviceNetworkEvents',
      eventKey: 'r:2023-07-19T14:09:43.8734700Z:18984951960',
      reportId: '18984951960',
      remoteIp: null,
      remotePort: 9389,
      remoteUrl: null,
      localIp: 'fe80::1c2d:3e4f%12',
      localPort: 60697,
      protocol: 'Tcp',
      initiatingProcessId: 0,
      initiatingProcessFileName: null,
      initiatingProcessCreationTime: null,
    });
    expect((event.raw as Record<string, unknown>).RemoteIP).toBe('-');
  });

  it('maps as asked even when the row looks like another table', () => {
    const input = record({ ...JSON_NETWORK_ROW, ActionType: 'ProcessCreated' });
    const event = eventOf(mapMdeRow(input, EventTable.DeviceNetworkEvents));

    expect(event.table).toBe('DeviceNetworkEvents');
    expect(event.actionType).toBe('ProcessCreated');
  });
});

describe('rejections', () => {
  it.each([
    ['DeviceId', { DeviceId: undefined }, 'DeviceId is required'],
    ['DeviceId', { DeviceId: '' }, 'DeviceId is required'],
    ['Timestamp', { Timestamp: ' ' }, 'Timestamp is required'],
    ['ActionType', { ActionType: null }, 'ActionType is required'],
    ['Timestamp', { Timestamp: '2023-02-30T00:00:00Z' }, 'Timestamp is not a valid ISO 8601 timestamp'],
    ['InitiatingProcessId', { InitiatingProcessId: '4180.0' }, 'InitiatingProcessId must be an integer'],
    ['ProcessId', { ProcessId: '-4' }, 'ProcessId must be a process id (an integer >= 0)'],
    ['ReportId', { ReportId: 'abc' }, 'ReportId must be an integer'],
    ['ProcessCreationTime', { ProcessCreationTime: 'n/a' }, 'ProcessCreationTime is not a valid ISO 8601 timestamp'],
  ])('rejects a bad %s with the record position', (field, change, message) => {
    const result = mapMdeRow(record({ ...CSV_DEVICE_ROW, ...change }, 7), EventTable.DeviceEvents);

    expect(result).toEqual({ kind: 'rejected', error: { record: 7, field, message } });
  });

  it('rejects a bad port on the network route', () => {
    const result = mapMdeRow(record({ ...JSON_NETWORK_ROW, RemotePort: 'http' }, 2), EventTable.DeviceNetworkEvents);

    expect(result).toEqual({
      kind: 'rejected',
      error: { record: 2, field: 'RemotePort', message: 'RemotePort must be an integer' },
    });
  });

  it('passes a reader error on with field null', () => {
    const broken: SourceRecord = { position: 5, line: 6, value: {}, error: 'Unexpected token } in JSON' };
    const expected = { kind: 'rejected', error: { record: 5, field: null, message: 'Unexpected token } in JSON' } };

    expect(mapMdeRow(broken, EventTable.DeviceEvents)).toEqual(expected);
    expect(mapStreamingRecord(broken)).toEqual(expected);
    expect(mapUnionRow(broken)).toEqual(expected);
    expect(mapEventsRecord(broken)).toEqual(expected);
  });
});

describe('mapStreamingRecord', () => {
  const envelope = (category: unknown, properties: unknown = JSON_NETWORK_ROW) => ({
    time: '2023-07-19T18:03:28.9948950Z',
    tenantId: 't',
    operationName: 'Publish',
    category,
    properties,
  });

  it('maps properties as the category table, compared without case, with raw = the envelope', () => {
    const input = record(envelope('advancedhunting-devicenetworkevents'));
    const event = eventOf(mapStreamingRecord(input));

    expect(event.table).toBe('DeviceNetworkEvents');
    expect(event.raw).toBe(input.value);
  });

  it('maps a DeviceEvents category', () => {
    expect(eventOf(mapStreamingRecord(record(envelope('AdvancedHunting-DeviceEvents')))).table).toBe('DeviceEvents');
  });

  it.each(['AdvancedHunting-DeviceProcessEvents', 'AdvancedHunting-AlertInfo', 'Something-DeviceEvents'])(
    'skips category %s',
    (category) => {
      expect(mapStreamingRecord(record(envelope(category)))).toEqual({
        kind: 'skipped',
        reason: `category ${category} is not ingested`,
      });
    },
  );

  it.each([
    [undefined, 'properties is required'],
    ['', 'properties is required'],
    [[JSON_NETWORK_ROW], 'properties must be an object'],
    ['{"DeviceId":"d"}', 'properties must be an object'],
  ])('rejects properties %j', (properties, message) => {
    const result = mapStreamingRecord(record({ ...envelope('AdvancedHunting-DeviceEvents'), properties }, 4));

    expect(result).toEqual({ kind: 'rejected', error: { record: 4, field: 'properties', message } });
  });

  it('rejects an envelope without category', () => {
    const result = mapStreamingRecord(record({ properties: JSON_NETWORK_ROW }, 1));

    expect(result).toEqual({
      kind: 'rejected',
      error: { record: 1, field: 'category', message: 'category is required' },
    });
  });

  it('reports a bad property with the record position', () => {
    const properties = { ...JSON_NETWORK_ROW, LocalPort: 70000 };
    const result = mapStreamingRecord(record(envelope('AdvancedHunting-DeviceNetworkEvents', properties), 9));

    expect(result).toMatchObject({ kind: 'rejected', error: { record: 9, field: 'LocalPort' } });
  });
});

describe('mapUnionRow', () => {
  const union = (change: Record<string, unknown>) => record({ ...CSV_DEVICE_ROW, ...change });

  it.each([
    ['ConnectionSuccess', 'DeviceNetworkEvents'],
    ['connectionfailed', 'DeviceNetworkEvents'],
    ['ListeningConnectionCreated', 'DeviceNetworkEvents'],
    ['NetworkSignatureInspected', 'DeviceNetworkEvents'],
    ['DnsConnectionInspected', 'DeviceNetworkEvents'],
    ['QuicConnectionInspected', 'DeviceNetworkEvents'],
    ['OpenProcessApiCall', 'DeviceEvents'],
    ['ProcessCreatedUsingWmiQuery', 'DeviceEvents'],
    ['CreateRemoteThreadApiCall', 'DeviceEvents'],
    ['SomethingNew', 'DeviceEvents'],
  ])('routes action type %s to %s', (actionType, table) => {
    expect(eventOf(mapUnionRow(union({ ActionType: actionType }))).table).toBe(table);
  });

  it.each([
    ['ProcessCreated', 'DeviceProcessEvents'],
    ['FileCreated', 'DeviceFileEvents'],
    ['RegistryValueSet', 'DeviceRegistryEvents'],
    ['LogonSuccess', 'DeviceLogonEvents'],
    ['ImageLoaded', 'DeviceImageLoadEvents'],
  ])('skips action type %s of %s', (actionType, table) => {
    expect(mapUnionRow(union({ ActionType: actionType }))).toEqual({
      kind: 'skipped',
      reason: `${table} rows are not ingested`,
    });
  });

  it.each(['Type', 'TableName', '$table', 'SourceTable'])('lets a %s column name the table', (column) => {
    const toNetwork = union({ [column]: 'devicenetworkevents', ActionType: 'OpenProcessApiCall' });
    const toProcess = union({ [column]: 'DeviceProcessEvents', ActionType: 'OpenProcessApiCall' });

    expect(eventOf(mapUnionRow(toNetwork)).table).toBe('DeviceNetworkEvents');
    expect(mapUnionRow(toProcess)).toEqual({ kind: 'skipped', reason: 'DeviceProcessEvents rows are not ingested' });
  });

  it('ignores a Type column that names no known table', () => {
    expect(eventOf(mapUnionRow(union({ Type: 'Structured object', ActionType: 'ConnectionFound' }))).table).toBe(
      'DeviceNetworkEvents',
    );
  });

  it('skips an identity or cloud-app row (no DeviceId, an Application column) with its reason', () => {
    const result = mapUnionRow(union({ DeviceId: '', Application: 'Office 365', ActionType: 'Add member to group.' }));

    expect(result).toMatchObject({ kind: 'skipped', reason: expect.stringContaining('Application') });
  });

  it('rejects a row without DeviceId that has no table signature', () => {
    expect(mapUnionRow(union({ DeviceId: '' }))).toEqual({
      kind: 'rejected',
      error: { record: 3, field: 'DeviceId', message: 'DeviceId is required' },
    });
  });
});

describe('mapEventsRecord', () => {
  it('sends an envelope to the streaming mapper and a plain row to the union mapper', () => {
    const envelope = record({ category: 'AdvancedHunting-DeviceEvents', properties: CSV_DEVICE_ROW });
    const plain = record({ ...CSV_DEVICE_ROW, ActionType: 'ConnectionSuccess' });

    expect(eventOf(mapEventsRecord(envelope)).raw).toBe(envelope.value);
    expect(eventOf(mapEventsRecord(plain)).table).toBe('DeviceNetworkEvents');
  });

  it('treats a category without properties as a broken envelope', () => {
    const result = mapEventsRecord(record({ category: 'AdvancedHunting-DeviceEvents', time: 'x' }, 0));

    expect(result).toMatchObject({ kind: 'rejected', error: { record: 0, field: 'properties' } });
  });

  it('treats a row with its own category column but no properties as a row', () => {
    const result = mapEventsRecord(record({ ...CSV_DEVICE_ROW, category: 'x' }));

    expect(eventOf(result).table).toBe('DeviceEvents');
  });
});
