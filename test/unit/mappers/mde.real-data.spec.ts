/**
 * The mappers on real public exports (read in place from ../shared, never copied; see SOURCES.md there).
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';

import { beforeAll, describe, expect, it } from 'vitest';

import type { DefenderEvent, DeviceEvent, DeviceNetworkEvent, MapResult } from '../../../src/ingest/event.types.js';
import {
  mapEventsRecord,
  mapStreamingRecord,
  mapUnionRow,
  type SourceRecord,
} from '../../../src/ingest/mappers/mde.mapper.js';
import { readCsvText } from './csv.test-helper.js';

const REAL = resolve(import.meta.dirname, '../../../../shared/data/real');
const STREAMING = `${REAL}/elastic-m365-defender/device-and-network.ndjson`;
const STREAMING_ALL = `${REAL}/elastic-m365-defender/test-device.log`;
const SIMULAND = `${REAL}/otrf-security-datasets/simuland-m365d/Microsoft365DefenderEvents.json`;
const DAFNEB = `${REAL}/dafneb-defender-hunting/advanced_hunting_test.csv`;
const CANONICAL_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{7}Z$/;

function absent(path: string): boolean {
  return !existsSync(path);
}

function jsonLines(path: string): SourceRecord[] {
  const lines = readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '');

  return lines.map((line, i) => ({ position: i, line: i + 1, value: JSON.parse(line) as Record<string, unknown> }));
}

function eventsOf(results: MapResult<DefenderEvent>[]): DefenderEvent[] {
  return results.flatMap((result) => (result.kind === 'event' ? [result.event] : []));
}

function expectCanonicalTimes(events: DefenderEvent[]): void {
  for (const event of events) {
    const creation = event.initiatingProcessCreationTime;
    expect(event.timestamp).toMatch(CANONICAL_TIME);
    if (creation !== null) expect(creation).toMatch(CANONICAL_TIME);
  }
}

describe.skipIf(absent(STREAMING))(`streaming-API records (skipped: ${STREAMING} absent, ../shared missing)`, () => {
  const records = absent(STREAMING) ? [] : jsonLines(STREAMING);
  const results = records.map(mapStreamingRecord);
  const events = eventsOf(results);

  it('maps all 18 records: 1 DeviceEvents, 17 DeviceNetworkEvents, raw = the envelope', () => {
    expect(records).toHaveLength(18);
    expect(events).toHaveLength(18);
    expect(events.filter((e) => e.table === 'DeviceEvents').map((e) => e.actionType)).toEqual(['DpapiAccessed']);
    expect(events.filter((e) => e.table === 'DeviceNetworkEvents')).toHaveLength(17);
    events.forEach((event, i) => expect(event.raw).toBe(records[i].value));
  });

  it('maps the same through mapEventsRecord', () => {
    expect(records.map(mapEventsRecord)).toEqual(results);
  });

  it('reads the DpapiAccessed event with a six-digit creation time padded to seven', () => {
    const dpapi = events[0] as DeviceEvent;

    expect(dpapi).toMatchObject({
      eventKey: 'r:2022-11-07T17:07:42.0259186Z:2833',
      deviceId: 'de6509d550e605faf3bbeac0905ab9590fe12345',
      reportId: '2833',
      initiatingProcessId: 4248,
      initiatingProcessFileName: 'backgroundtaskhost.exe',
      initiatingProcessCreationTime: '2022-11-07T17:07:41.6988680Z',
      initiatingProcessParentId: 948,
      fileName: null,
      processId: null,
    });
  });

  it('pads the five-digit Timestamp and keeps every canonical time at seven digits', () => {
    expect(events[1].timestamp).toBe('2022-11-09T17:43:28.1883500Z');
    expectCanonicalTimes(events);
  });

  it('gives the repeated record (original lines 27 and 30) one key, ReportId beyond 32 bits', () => {
    const [first, repeat] = events.filter((e) => e.reportId === '18984951960') as DeviceNetworkEvent[];

    expect(repeat.eventKey).toBe(first.eventKey);
    expect(first.eventKey).toBe('r:2023-07-19T14:09:43.8734771Z:18984951960');
    expect([first.remoteIp, first.localIp]).toEqual(['175.16.199.0', '89.160.20.112']);
    expect([repeat.remoteIp, repeat.localIp]).toEqual([null, null]);
    expect((repeat.raw as { properties: Record<string, unknown> }).properties.RemoteIP).toBe('-');
  });

  it('keeps IPv6 addresses, nulls ICMP ports and keeps protocol text as given', () => {
    const network = events.filter((e): e is DeviceNetworkEvent => e.table === 'DeviceNetworkEvents');
    const icmp = network.find((e) => e.protocol === 'Icmp');
    const found = network.find((e) => e.actionType === 'ConnectionFound');

    expect(icmp).toMatchObject({ remotePort: null, localPort: null });
    expect(found).toMatchObject({ remoteIp: '2a02:cf40::', localIp: '2a02:cf40::', remotePort: 8080 });
    expect(network.filter((e) => e.protocol === null)).toHaveLength(2);
  });
});

describe.skipIf(absent(STREAMING_ALL))(`all 31 streaming records (skipped: ${STREAMING_ALL} absent)`, () => {
  it('maps the 18 device/network records and skips the 13 others with their category', () => {
    const results = jsonLines(STREAMING_ALL).map(mapEventsRecord);
    const skipped = results.filter((r) => r.kind === 'skipped');

    expect(results).toHaveLength(31);
    expect(eventsOf(results)).toHaveLength(18);
    expect(skipped).toHaveLength(13);
    expect(skipped).toContainEqual({
      kind: 'skipped',
      reason: 'category AdvancedHunting-DeviceImageLoadEvents is not ingested',
    });
  });
});

describe.skipIf(absent(SIMULAND))(`SimuLand M365D union export (skipped: ${SIMULAND} absent)`, () => {
  const records = absent(SIMULAND) ? [] : jsonLines(SIMULAND);
  const results = records.map(mapEventsRecord);
  const events = eventsOf(results);

  it('maps the 5 LdapSearch rows as DeviceEvents with ReportId from ReportId_long', () => {
    expect(events).toHaveLength(5);
    expect(events.every((e) => e.table === 'DeviceEvents' && e.actionType === 'LdapSearch')).toBe(true);
    expect(events.map((e) => e.reportId)).toEqual(['113597', '113598', '113608', '113616', '113771']);
    expect(events[4].eventKey).toBe('r:2021-08-02T13:15:30.5136520Z:113771');
    expect(events[0]).toMatchObject({ initiatingProcessId: 5692, initiatingProcessParentId: 820 });
    expect((events[0].raw as Record<string, unknown>).ReportId_long).toBe(113597);
    expectCanonicalTimes(events);
  });

  it('skips the identity and cloud-app rows with a reason instead of rejecting them', () => {
    const others = results.slice(5);

    expect(others.map((r) => r.kind)).toEqual(['skipped', 'skipped', 'skipped', 'skipped']);
    expect(others.slice(0, 3)).toEqual([
      { kind: 'skipped', reason: 'IdentityDirectoryEvents rows are not ingested' },
      { kind: 'skipped', reason: 'IdentityDirectoryEvents rows are not ingested' },
      { kind: 'skipped', reason: 'CloudAppEvents rows are not ingested' },
    ]);
    expect(others[3]).toMatchObject({ reason: expect.stringContaining('identity or cloud-app') });
  });
});

describe.skipIf(absent(DAFNEB))(`portal CSV union export (skipped: ${DAFNEB} absent)`, () => {
  let records: SourceRecord[] = [];
  let results: MapResult<DefenderEvent>[] = [];
  let events: DefenderEvent[] = [];

  beforeAll(async () => {
    records = await readCsvText(readFileSync(DAFNEB, 'utf8'));
    results = records.map(mapUnionRow);
    events = eventsOf(results);
  });

  it('reads 26 rows of 72 text columns through the CSV reader', () => {
    expect(records).toHaveLength(26);
    expect(records.every((r) => r.error === undefined && Object.keys(r.value).length === 72)).toBe(true);
  });

  it('maps every row to an event or a skip with a reason, with no rejection', () => {
    expect(results.filter((r) => r.kind === 'rejected')).toEqual([]);
    expect(results.filter((r) => r.kind === 'skipped')).toEqual([
      { kind: 'skipped', reason: 'DeviceProcessEvents rows are not ingested' },
    ]);
    expect(events.filter((e) => e.table === 'DeviceNetworkEvents')).toHaveLength(8);
    expect(events.filter((e) => e.table === 'DeviceEvents')).toHaveLength(17);
    expect(records.map(mapEventsRecord)).toEqual(results);
  });

  it('gives pid 4180 to both spellings of the Defender sensor', () => {
    const success = events.find((e) => e.actionType === 'ConnectionSuccess') as DeviceNetworkEvent;
    const open = events.find((e) => e.actionType === 'OpenProcessApiCall') as DeviceEvent;

    expect(success).toMatchObject({ initiatingProcessId: 4180, initiatingProcessFileName: 'MsSense.exe' });
    expect(success).toMatchObject({ remoteIp: '20.50.201.200', remotePort: 443, localPort: 51697, protocol: 'Tcp' });
    expect(open).toMatchObject({ initiatingProcessId: 4180, initiatingProcessFileName: 'mssense.exe' });
    expect(open).toMatchObject({ processId: 2264, fileName: 'lsass.exe' });
  });

  it('reads empty CSV cells as null and keeps raw text untouched', () => {
    const listening = events.find((e) => e.actionType === 'ListeningConnectionCreated') as DeviceNetworkEvent;
    const icmp = events.find((e) => e.actionType === 'IcmpConnectionInspected') as DeviceNetworkEvent;

    expect(listening).toMatchObject({ remoteIp: null, remotePort: null, localIp: '127.0.0.1', protocol: 'TcpV4' });
    expect(icmp).toMatchObject({ remotePort: null, localPort: null, protocol: 'Icmp' });
    expect((listening.raw as Record<string, string>).RemotePort).toBe('');
    expectCanonicalTimes(events);
  });
});
