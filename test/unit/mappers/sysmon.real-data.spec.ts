/**
 * The Sysmon mapper on the real OTRF Security-Datasets extracts bundled in test/fixtures/otrf/sysmon (MIT; byte-
 * identical to ../shared/data/real/otrf-security-datasets/extracts/, SOURCES.md section 1b there), each file read
 * unchanged through the project's own NDJSON line reader.
 *
 * NXLog writes the Windows `Keywords` mask as a JSON number beyond 2^53 on 1,918 of the 2,132 lines
 * (-9223372036854775808 on Sysmon lines). JSON.parse rounds it; the reader then keeps the line's text beside the
 * value and the mapper stores that text as ExactJson, so no line is rejected and none is stored altered.
 */
import { readdirSync, readFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { ExactJson, type MapResult, type SysmonEvent } from '../../../src/ingest/event.types.js';
import { mapSysmonRecord, type SourceRecord } from '../../../src/ingest/mappers/sysmon.mapper.js';
import { NdjsonLineReader } from '../../../src/ingest/readers/ndjson.reader.js';

type Value = Record<string, unknown>;

const EXTRACTS = new URL('../../fixtures/otrf/sysmon/', import.meta.url);
const EXTRACT_SUFFIX = '.extract.ndjson';
const WUAUCLT = 'covenant_lolbin_wuauclt_createremotethread';
const SYSMON_CHANNEL = 'Microsoft-Windows-Sysmon/Operational';
const H_KEY = /^h:[0-9a-f]{64}$/;
/** A line holding Keywords as a JSON number (the other lines write it as text, `"0x8000000000000000"`). */
const NUMERIC_KEYWORDS = /"Keywords":-?\d/;

/** Per file: Sysmon events by event id (1, 3, 5, 8, 10) and Security 5156 lines, from SOURCES.md's selection. */
const EXPECTED: Record<string, { events: Record<number, number>; security: number; lines: number }> = {
  covenant_dcom_iertutil_dll_hijack: { events: { 1: 78, 3: 184, 5: 71, 8: 1, 10: 7 }, security: 0, lines: 341 },
  [WUAUCLT]: { events: { 1: 4, 3: 25, 5: 3, 8: 1, 10: 31 }, security: 0, lines: 64 },
  covenant_sharpsc_start_dcerpc_smb_svcctl: { events: { 1: 4, 3: 33, 5: 1, 10: 10 }, security: 10, lines: 58 },
  covenant_wmi_wbemcomn_dll_hijack: { events: { 1: 13, 3: 46, 5: 9, 8: 1, 10: 30 }, security: 10, lines: 109 },
  empire_dllinjection_LoadLibrary_CreateRemoteThread: {
    events: { 1: 8, 3: 206, 5: 12, 8: 1, 10: 13 },
    security: 10,
    lines: 250,
  },
  empire_persistence_registry_modification_run_keys_standard_user: {
    events: { 1: 120, 3: 237, 5: 101, 8: 82, 10: 351 },
    security: 10,
    lines: 901,
  },
  empire_psinject_PEinjection: { events: { 1: 1, 3: 96, 5: 7, 8: 88, 10: 3 }, security: 0, lines: 195 },
  psh_mavinject_dll_notepad: { events: { 1: 2, 3: 2, 8: 1, 10: 101 }, security: 0, lines: 106 },
  purplesharp_pe_injection_createremotethread: { events: { 1: 6, 5: 1, 8: 1, 10: 63 }, security: 0, lines: 71 },
  schtask_create: { events: { 1: 10, 3: 6, 5: 8, 8: 1, 10: 12 }, security: 0, lines: 37 },
};

/**
 * The files NXLog wrote without RecordNumber (and with a short Hostname): their events get content keys. Each with
 * its number of distinct line texts: mavinject and purplesharp repeat three of their lines byte for byte.
 */
const WITHOUT_RECORD_NUMBER: Record<string, { distinctLines: number }> = {
  psh_mavinject_dll_notepad: { distinctLines: 103 },
  purplesharp_pe_injection_createremotethread: { distinctLines: 68 },
  schtask_create: { distinctLines: 37 },
};

interface Mapped {
  /** The file's lines as its bytes give them, without the line ends; split here, not by the reader under test. */
  lines: string[];
  records: SourceRecord[];
  results: MapResult<SysmonEvent>[];
  events: SysmonEvent[];
}

/** Where an event came from: the record the reader gave the mapper and the line of the file it was read from. */
interface Source {
  record: SourceRecord;
  line: string;
}

const SOURCES = new WeakMap<SysmonEvent, Source>();

function datasetNames(): string[] {
  return readdirSync(EXTRACTS)
    .filter((name) => name.endsWith(EXTRACT_SUFFIX))
    .map((name) => name.slice(0, -EXTRACT_SUFFIX.length))
    .sort();
}

function fileText(dataset: string): string {
  return readFileSync(new URL(`${dataset}${EXTRACT_SUFFIX}`, EXTRACTS), 'utf8');
}

function linesOf(text: string): string[] {
  return text
    .replace(/\n$/, '')
    .split('\n')
    .map((line) => line.replace(/\r$/, ''));
}

function readLines(text: string): SourceRecord[] {
  const reader = new NdjsonLineReader();

  return [...reader.feed(Buffer.from(text, 'utf8')), ...reader.end()];
}

function mapText(text: string): Mapped {
  const lines = linesOf(text);
  const records = readLines(text);
  const results = records.map(mapSysmonRecord);

  const events: SysmonEvent[] = [];
  results.forEach((result, i) => {
    if (result.kind !== 'event') return;
    SOURCES.set(result.event, { record: records[i], line: lines[records[i].line! - 1] });
    events.push(result.event);
  });
  return { lines, records, results, events };
}

const MAPPED = new Map(datasetNames().map((name) => [name, mapText(fileText(name))]));

function mapped(dataset: string): Mapped {
  const found = MAPPED.get(dataset);
  if (found === undefined) throw new Error(`${dataset} was not read`);

  return found;
}

function sourceOf(event: SysmonEvent): Source {
  const source = SOURCES.get(event);
  if (source === undefined) throw new Error('the event was not mapped from a line of an extract');

  return source;
}

/** The line's fields as parsed: what the tests read the logged values from (`raw` may be the text). */
function loggedOf(event: SysmonEvent): Value {
  return sourceOf(event).record.value;
}

function countByEventId(events: SysmonEvent[]): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const event of events) counts[event.eventId] = (counts[event.eventId] ?? 0) + 1;

  return counts;
}

/** `2020-10-12 22:34:38.169` → `2020-10-12T22:34:38.1690000Z`, written out independently of the mapper. */
function utcTimeAsCanonical(utcTime: string): string {
  const [date, time] = utcTime.split(' ');
  const [clock, fraction = ''] = time.split('.');

  return `${date}T${clock}.${fraction.padEnd(7, '0')}Z`;
}

function normalGuid(guid: unknown): string {
  return String(guid).replace(/[{}]/g, '').toLowerCase();
}

function typedFields(event: SysmonEvent): Omit<SysmonEvent, 'raw'> {
  const { raw: _raw, ...fields } = event;

  return fields;
}

function withoutKey(event: SysmonEvent): Omit<SysmonEvent, 'raw' | 'eventKey'> {
  const { eventKey: _eventKey, ...fields } = typedFields(event);

  return fields;
}

function sameTypedFields(event: SysmonEvent, other: SysmonEvent): boolean {
  return JSON.stringify(withoutKey(event)) === JSON.stringify(withoutKey(other));
}

function eventOf(result: MapResult<SysmonEvent>): SysmonEvent {
  if (result.kind !== 'event') throw new Error(`expected an event, got ${JSON.stringify(result)}`);

  return result.event;
}

describe('Sysmon mapper on the OTRF extracts, read unchanged', () => {
  it('reads the ten extracts with the line counts SOURCES.md gives', () => {
    expect(datasetNames()).toEqual(Object.keys(EXPECTED).sort());
    for (const [dataset, expected] of Object.entries(EXPECTED)) {
      expect(mapped(dataset).lines, dataset).toHaveLength(expected.lines);
      expect(mapped(dataset).records, dataset).toHaveLength(expected.lines);
    }
  });

  it.each(Object.keys(EXPECTED))('maps %s: no rejection, Security 5156 skipped, events by id', (dataset) => {
    const { results, events } = mapped(dataset);
    const expected = EXPECTED[dataset];
    const skipped = results.filter((result) => result.kind === 'skipped');

    expect(results.filter((result) => result.kind === 'rejected')).toEqual([]);
    expect(skipped).toEqual(
      Array.from({ length: expected.security }, () => ({
        kind: 'skipped',
        reason: `channel Security is not ${SYSMON_CHANNEL}`,
      })),
    );
    expect(countByEventId(events)).toEqual(expected.events);
  });

  it('skips exactly the Security lines, all of them EventID 5156', () => {
    for (const dataset of MAPPED.keys()) {
      const { records, results } = mapped(dataset);
      const skippedValues = records.filter((_, i) => results[i].kind === 'skipped').map((r) => r.value);

      expect(skippedValues.every((value) => value.Channel === 'Security' && value.EventID === 5156)).toBe(true);
    }
  });

  it('stores a line with a numeric Keywords as ExactJson of the line, any other line as its parsed value', () => {
    let exact = 0;
    let parsed = 0;
    for (const { events } of MAPPED.values()) {
      for (const event of events) {
        const { record, line } = sourceOf(event);
        if (NUMERIC_KEYWORDS.test(line)) {
          expect(event.raw).toBeInstanceOf(ExactJson);
          expect((event.raw as ExactJson).text).toBe(line);
          exact++;
        } else {
          expect(event.raw).toBe(record.value);
          parsed++;
        }
      }
    }

    expect([exact, parsed]).toEqual([1878, 214]);
  });

  it('keeps every digit of Keywords in what it stores, where JSON.parse rounded it', () => {
    const thread = mapped(WUAUCLT).events.find((event) => event.eventId === 8)!;
    const stored = (thread.raw as ExactJson).text;

    expect(stored).toContain('"Keywords":-9223372036854775808,');
    expect(JSON.stringify(loggedOf(thread))).not.toContain('-9223372036854775808');
  });

  it('gives every event the UtcTime it logged, never EventTime or @timestamp', () => {
    let checked = 0;
    let differsFromTimestamp = 0;
    for (const { events } of MAPPED.values()) {
      for (const event of events) {
        const logged = loggedOf(event);
        expect(event.timestamp).toBe(utcTimeAsCanonical(String(logged.UtcTime)));
        if (typeof logged.EventTime === 'string') expect(event.timestamp).not.toContain(logged.EventTime.slice(11));
        if (event.timestamp.slice(0, 19) !== String(logged['@timestamp']).slice(0, 19)) differsFromTimestamp++;
        checked++;
      }
    }

    expect(checked).toBe(2092);
    expect(differsFromTimestamp).toBeGreaterThan(2000);
  });

  it('reads the CreateRemoteThread of wuauclt into <unknown process> 2368, which is the notepad it created', () => {
    const { events } = mapped(WUAUCLT);
    const [thread] = events.filter((event) => event.eventId === 8);
    const notepad = events.find((event) => event.eventId === 1 && event.processId === 2368);

    expect(thread).toMatchObject({
      deviceId: 'host:workstation5.theshire.local',
      timestamp: '2020-10-12T22:34:38.1690000Z',
      recordId: '338575',
      eventKey: 'r:2020-10-12T22:34:38.1690000Z:338575',
      image: 'C:\\Windows\\System32\\wuauclt.exe',
      processId: 6208,
      targetImage: null,
      targetProcessId: 2368,
    });
    expect(loggedOf(thread)).toMatchObject({
      SourceImage: 'C:\\Windows\\System32\\wuauclt.exe',
      TargetImage: '&lt;unknown process&gt;',
      EventTime: '2020-10-12 18:34:38',
    });
    expect(notepad?.image).toBe('C:\\Windows\\System32\\notepad.exe');
    expect(thread.targetProcessGuid).toBe(normalGuid(loggedOf(notepad!).ProcessGuid));
    expect(thread.targetProcessGuid).toBe('71b87c12-d9fe-5f84-1a01-000000000500');
  });

  it('takes the source and target GUIDs of every ProcessAccess from the ...GUID spelling', () => {
    const accesses = [...MAPPED.values()].flatMap(({ events }) => events.filter((event) => event.eventId === 10));

    expect(accesses).toHaveLength(621);
    for (const event of accesses) {
      const logged = loggedOf(event);
      expect(Object.hasOwn(logged, 'SourceProcessGuid') || Object.hasOwn(logged, 'TargetProcessGuid')).toBe(false);
      expect(event.processGuid).toBe(normalGuid(logged.SourceProcessGUID));
      expect(event.targetProcessGuid).toBe(normalGuid(logged.TargetProcessGUID));
      expect(event.processGuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(event.grantedAccess).toBe(logged.GrantedAccess);
    }
  });

  it('keys events by record number where NXLog wrote one: one key per line', () => {
    for (const [dataset, { events }] of MAPPED) {
      if (Object.hasOwn(WITHOUT_RECORD_NUMBER, dataset)) continue;

      expect(
        events.every((event) => event.eventKey === `r:${event.timestamp}:${event.recordId}`),
        dataset,
      ).toBe(true);
      expect(new Set(events.map((event) => event.eventKey)).size, dataset).toBe(events.length);
    }
  });

  it('keys the lines without record number by the whole record: only byte-identical lines share a key', () => {
    for (const [dataset, { distinctLines }] of Object.entries(WITHOUT_RECORD_NUMBER)) {
      const { lines, events } = mapped(dataset);
      const linesByKey = new Map<string, Set<string>>();
      for (const event of events) {
        const same = linesByKey.get(event.eventKey) ?? new Set<string>();
        linesByKey.set(event.eventKey, same.add(sourceOf(event).line));
      }

      expect(events, dataset).toHaveLength(lines.length);
      expect(new Set(lines).size, dataset).toBe(distinctLines);
      expect(
        events.every((event) => H_KEY.test(event.eventKey)),
        dataset,
      ).toBe(true);
      expect(
        [...linesByKey.values()].every((same) => same.size === 1),
        dataset,
      ).toBe(true);
      expect(linesByKey.size, dataset).toBe(distinctLines);
    }
  });

  it('keys apart the schtask accesses alike in every typed field, which differ in SourceThreadId or CallTrace', () => {
    const accesses = mapped('schtask_create').events.filter((event) => event.eventId === 10);
    const pairs = accesses.flatMap((event, i) =>
      accesses.slice(i + 1).flatMap((other) => (sameTypedFields(event, other) ? [[event, other]] : [])),
    );

    expect(pairs.length).toBeGreaterThan(0);
    for (const [event, other] of pairs) {
      const [logged, otherLogged] = [loggedOf(event), loggedOf(other)];
      expect(event.eventKey).not.toBe(other.eventKey);
      expect(logged.SourceThreadId !== otherLogged.SourceThreadId || logged.CallTrace !== otherLogged.CallTrace).toBe(
        true,
      );
    }
  });

  it('reads the short host names of the files without record numbers as their own devices', () => {
    const hosts = new Set(mapped('purplesharp_pe_injection_createremotethread').events.map((e) => e.deviceId));

    expect(hosts).toEqual(new Set(['host:workstation5']));
  });
});

/** Sysmon event-data names of a flat line: the `Name: value` lines of its rendered Message. */
function eventDataNames(flat: Value): string[] {
  const lines = String(flat.Message).split('\r\n').slice(1);
  const names = lines.map((line) => /^(\w+): /.exec(line)?.[1]).filter((name) => name !== undefined);

  return names.filter((name) => Object.hasOwn(flat, name));
}

/** NXLog keeps `&lt;unknown process&gt;` escaped; an XML reader decodes the entities. */
function decodeEntities(text: string): string {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/'/g, '&apos;');
}

function eventDataOf(flat: Value, render: (value: unknown) => unknown): Value {
  return Object.fromEntries(eventDataNames(flat).map((name) => [name, render(flat[name])]));
}

function asEcs(flat: Value): Value {
  return {
    '@timestamp': flat['@timestamp'],
    host: { name: flat.Hostname },
    winlog: {
      channel: flat.Channel,
      provider_name: flat.SourceName,
      computer_name: flat.Hostname,
      event_id: String(flat.EventID),
      record_id: flat.RecordNumber,
      event_data: eventDataOf(flat, (value) => value),
    },
  };
}

function asDottedEcs(flat: Value): Value {
  const ecs = asEcs(flat);
  const winlog = ecs.winlog as Value;
  const dotted: Value = { '@timestamp': ecs['@timestamp'], 'host.name': flat.Hostname };
  for (const [key, value] of Object.entries(winlog)) if (key !== 'event_data') dotted[`winlog.${key}`] = value;
  for (const [key, value] of Object.entries(winlog.event_data as Value)) dotted[`winlog.event_data.${key}`] = value;

  return dotted;
}

/** Moves the acting process, parent and connection out of event_data into ECS fields, as some pipelines do. */
function asEcsWithFallbacks(flat: Value): Value {
  const ecs = asEcs(flat);
  const data = { ...((ecs.winlog as Value).event_data as Value) };
  const acting = flat.EventID === 8 || flat.EventID === 10 ? 'Source' : '';
  const take = (name: string): unknown => {
    const value = data[name];
    delete data[name];
    return value;
  };
  const direction = take('Initiated');

  return {
    ...ecs,
    winlog: { ...(ecs.winlog as Value), event_data: data },
    process: {
      entity_id: take(`${acting}ProcessGuid`),
      pid: Number(take(`${acting}ProcessId`)),
      executable: take(`${acting}Image`),
      parent: { entity_id: take('ParentProcessGuid'), pid: take('ParentProcessId'), executable: take('ParentImage') },
    },
    network: { transport: take('Protocol'), direction: direction === undefined ? undefined : egress(direction) },
    source: { ip: take('SourceIp'), port: take('SourcePort') },
    destination: { ip: take('DestinationIp'), port: take('DestinationPort') },
  };
}

function egress(initiated: unknown): string {
  return initiated === 'true' ? 'egress' : 'ingress';
}

function asXml(flat: Value): SourceRecord {
  const system: Value = {
    Provider: { Name: flat.SourceName, Guid: flat.ProviderGuid },
    EventID: String(flat.EventID),
    TimeCreated: { SystemTime: flat['@timestamp'] },
    Channel: flat.Channel,
    Computer: flat.Hostname,
  };
  if (flat.RecordNumber !== undefined) system.EventRecordID = String(flat.RecordNumber);
  const eventData = eventDataOf(flat, (value) => decodeEntities(String(value)));

  return { position: 0, value: { System: system, EventData: eventData }, text: xmlText(system, eventData) };
}

function xmlText(system: Value, eventData: Value): string {
  const data = Object.entries(eventData).map(
    ([name, value]) => `<Data Name='${name}'>${escapeXml(String(value))}</Data>`,
  );
  const provider = system.Provider as Value;

  return (
    "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System>" +
    `<Provider Name='${String(provider.Name)}'/><EventID>${String(system.EventID)}</EventID>` +
    `<TimeCreated SystemTime='${String((system.TimeCreated as Value).SystemTime)}'/>` +
    `<EventRecordID>${String(system.EventRecordID ?? '')}</EventRecordID><Channel>${String(system.Channel)}</Channel>` +
    `<Computer>${String(system.Computer)}</Computer></System><EventData>${data.join('')}</EventData></Event>`
  );
}

/**
 * An r: key is the same in every shape; an h: key hashes the whole record, so it is shape-specific by design and
 * only the typed fields are compared.
 */
function expectSameEvent(rebuilt: SysmonEvent, event: SysmonEvent): void {
  if (event.eventKey.startsWith('r:')) {
    expect(typedFields(rebuilt)).toEqual(typedFields(event));
    return;
  }

  expect(rebuilt.eventKey).toMatch(H_KEY);
  expect(withoutKey(rebuilt)).toEqual(withoutKey(event));
}

describe('the same real events as Winlogbeat/ECS and as parsed XML', () => {
  const datasets = [WUAUCLT, 'purplesharp_pe_injection_createremotethread', 'covenant_wmi_wbemcomn_dll_hijack'];
  const events = datasets.flatMap((dataset) => mapped(dataset).events);

  it('covers every event id, with r: keys (record numbers) and h: keys (none)', () => {
    expect(new Set(events.map((event) => event.eventId))).toEqual(new Set([1, 3, 5, 8, 10]));
    expect(events.filter((event) => event.recordId === null).every((event) => H_KEY.test(event.eventKey))).toBe(true);
    // wuauclt's 64 lines and wbemcomn's 109 less its 10 Security lines have record numbers; purplesharp's 71 not
    expect(events.filter((event) => event.eventKey.startsWith('r:'))).toHaveLength(163);
    expect(events.filter((event) => H_KEY.test(event.eventKey))).toHaveLength(71);
  });

  it('maps each event, rebuilt as a nested ECS document, to the same typed fields (and r: key)', () => {
    for (const event of events) {
      const ecs = eventOf(mapSysmonRecord({ position: 0, value: asEcs(loggedOf(event)) }));
      expectSameEvent(ecs, event);
    }
  });

  it('does the same with dotted ECS keys', () => {
    for (const event of events) {
      const dotted = eventOf(mapSysmonRecord({ position: 0, value: asDottedEcs(loggedOf(event)) }));
      expectSameEvent(dotted, event);
    }
  });

  it('does the same when the process and connection fields were moved to ECS fields', () => {
    for (const event of events) {
      const ecs = eventOf(mapSysmonRecord({ position: 0, value: asEcsWithFallbacks(loggedOf(event)) }));
      expectSameEvent(ecs, event);
    }
  });

  it('does the same as parsed Windows event XML, keeping the element text as raw', () => {
    for (const event of events) {
      const input = asXml(loggedOf(event));
      const xml = eventOf(mapSysmonRecord(input));
      expectSameEvent(xml, event);
      expect(xml.raw).toEqual({ xml: input.text });
    }
  });

  it('keys the wuauclt thread r:<UtcTime>:338575 in all shapes', () => {
    const thread = mapped(WUAUCLT).events.find((event) => event.eventId === 8)!;
    const shapes = [asEcs, asDottedEcs, asEcsWithFallbacks].map((build) => build(loggedOf(thread)));
    const keys = [...shapes.map((value) => ({ position: 0, value })), asXml(loggedOf(thread))].map(
      (input) => eventOf(mapSysmonRecord(input)).eventKey,
    );

    expect(keys).toEqual(Array.from({ length: 4 }, () => 'r:2020-10-12T22:34:38.1690000Z:338575'));
  });
});
