import { createHash } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import { ExactJson, type MapResult, type SysmonEvent } from '../../../src/ingest/event.types.js';
import { mapSysmonRecord, type SourceRecord } from '../../../src/ingest/mappers/sysmon.mapper.js';
import { MAX_DEVICE_ID_LENGTH } from '../../../src/vocabulary/graph.vocabulary.js';

type Value = Record<string, unknown>;

function record(value: Value, position = 4, text?: string): SourceRecord {
  const built: SourceRecord = { position, line: position + 1, value };
  if (text !== undefined) built.text = text;

  return built;
}

function eventOf(result: MapResult<SysmonEvent>): SysmonEvent {
  if (result.kind !== 'event') throw new Error(`expected an event, got ${JSON.stringify(result)}`);

  return result.event;
}

function mapFlat(value: Value, position = 4): SysmonEvent {
  return eventOf(mapSysmonRecord(record(value, position)));
}

function typedFields(event: SysmonEvent): Omit<SysmonEvent, 'raw'> {
  const { raw: _raw, ...fields } = event;

  return fields;
}

const SYSMON = { Channel: 'Microsoft-Windows-Sysmon/Operational', SourceName: 'Microsoft-Windows-Sysmon' };

/** NXLog-style flat records, values as NXLog writes them (pids and ports as text, EventID a number). */
const FLAT_THREAD = {
  ...SYSMON,
  EventID: 8,
  Hostname: 'WORKSTATION5.theshire.local',
  RecordNumber: 338575,
  UtcTime: '2020-10-12 22:34:38.169',
  EventTime: '2020-10-12 18:34:38',
  EventReceivedTime: '2020-10-12 18:34:38',
  '@timestamp': '2020-10-12T22:34:38.939Z',
  ProcessId: '6208',
  SourceProcessGuid: '{71B87C12-D9FE-5F84-1901-000000000500}',
  SourceProcessId: '6208',
  SourceImage: 'C:\\Windows\\System32\\wuauclt.exe',
  TargetProcessGuid: '{71b87c12-d9fe-5f84-1a01-000000000500}',
  TargetProcessId: '2368',
  TargetImage: '&lt;unknown process&gt;',
  Message: 'CreateRemoteThread detected',
};

const FLAT_CREATE = {
  ...SYSMON,
  EventID: 1,
  Hostname: ' WORKSTATION5.theshire.local ',
  RecordNumber: 338571,
  UtcTime: '2020-10-12 22:34:38.176',
  ProcessGuid: '{71b87c12-d9fe-5f84-1a01-000000000500}',
  ProcessId: '2368',
  Image: 'C:\\Windows\\System32\\notepad.exe',
  ParentProcessGuid: '{71b87c12-d9fe-5f84-1901-000000000500}',
  ParentProcessId: '6208',
  ParentImage: 'C:\\Windows\\System32\\wuauclt.exe',
};

const FLAT_CONNECT = {
  ...SYSMON,
  EventID: 3,
  Hostname: 'MORDORDC.theshire.local',
  RecordNumber: '243320',
  UtcTime: '2020-10-12 22:32:50.742',
  ProcessGuid: '{029f9482-bfb1-5f84-4e00-000000000400}',
  ProcessId: '3632',
  Image: 'C:\\Windows\\ADWS\\Microsoft.ActiveDirectory.WebServices.exe',
  Protocol: 'tcp',
  Initiated: 'true',
  SourceIp: '0:0:0:0:0:0:0:1',
  SourcePort: '61026',
  DestinationIp: '10.10.10.5',
  DestinationPort: '9389',
};

const FLAT_ACCESS = {
  ...SYSMON,
  EventID: 10,
  Hostname: 'WORKSTATION5.theshire.local',
  RecordNumber: 338570,
  UtcTime: '2020-10-12 22:34:38.169',
  ProcessId: '3576',
  SourceProcessGUID: '{71b87c12-d7e5-5f84-0e01-000000000500}',
  SourceProcessId: '3576',
  SourceImage: 'C:\\windows\\system32\\svchost.exe',
  TargetProcessGUID: '{71b87c12-d9fe-5f84-1a01-000000000500}',
  TargetProcessId: '2368',
  TargetImage: 'c:\\windows\\system32\\notepad.exe',
  GrantedAccess: '0x1fffff',
};

const FLAT_TERMINATE = {
  ...SYSMON,
  EventID: 5,
  Hostname: 'WORKSTATION5.theshire.local',
  RecordNumber: 338584,
  UtcTime: '2020-10-12 22:34:38.185',
  ProcessGuid: '{71b87c12-d9fe-5f84-1901-000000000500}',
  ProcessId: '6208',
  Image: 'C:\\Windows\\System32\\wuauclt.exe',
};

/** A record's JSON text as NXLog writes it: Keywords -2^63 as a JSON number, which JSON.parse rounds. */
function nxlogText(value: Value): string {
  return JSON.stringify({ ...value, Keywords: 0 }).replace('"Keywords":0', '"Keywords":-9223372036854775808');
}

const KEYWORDS_TEXT = nxlogText(FLAT_THREAD);

const NO_FIELDS = {
  processGuid: null,
  processId: null,
  image: null,
  parentProcessGuid: null,
  parentProcessId: null,
  parentImage: null,
  targetProcessGuid: null,
  targetProcessId: null,
  targetImage: null,
  initiated: null,
  protocol: null,
  sourceIp: null,
  sourcePort: null,
  destinationIp: null,
  destinationPort: null,
  grantedAccess: null,
};

const THREAD_EVENT: SysmonEvent = {
  ...NO_FIELDS,
  table: 'SysmonEvents',
  eventKey: 'r:2020-10-12T22:34:38.1690000Z:338575',
  deviceId: 'host:workstation5.theshire.local',
  deviceName: 'WORKSTATION5.theshire.local',
  timestamp: '2020-10-12T22:34:38.1690000Z',
  eventId: 8,
  actionType: 'CreateRemoteThread',
  recordId: '338575',
  processGuid: '71b87c12-d9fe-5f84-1901-000000000500',
  processId: 6208,
  image: 'C:\\Windows\\System32\\wuauclt.exe',
  targetProcessGuid: '71b87c12-d9fe-5f84-1a01-000000000500',
  targetProcessId: 2368,
  targetImage: null,
  raw: FLAT_THREAD,
};

/** The same event 8 as a Winlogbeat document, nested. */
const ECS_THREAD = {
  '@timestamp': '2020-10-12T22:34:38.939Z',
  host: { name: 'WORKSTATION5.theshire.local' },
  winlog: {
    channel: 'Microsoft-Windows-Sysmon/Operational',
    provider_name: 'Microsoft-Windows-Sysmon',
    computer_name: 'WORKSTATION5.theshire.local',
    event_id: '8',
    record_id: '338575',
    event_data: {
      UtcTime: '2020-10-12 22:34:38.169',
      SourceProcessGuid: '{71b87c12-d9fe-5f84-1901-000000000500}',
      SourceProcessId: '6208',
      SourceImage: 'C:\\Windows\\System32\\wuauclt.exe',
      TargetProcessGuid: '{71b87c12-d9fe-5f84-1a01-000000000500}',
      TargetProcessId: '2368',
      TargetImage: '<unknown process>',
    },
  },
};

/** The same event 8 with dotted top-level keys, as some shippers flatten ECS. */
const DOTTED_THREAD = {
  '@timestamp': '2020-10-12T22:34:38.939Z',
  'host.name': 'WORKSTATION5.theshire.local',
  'winlog.channel': 'Microsoft-Windows-Sysmon/Operational',
  'winlog.event_id': 8,
  'winlog.record_id': 338575,
  'winlog.event_data.UtcTime': '2020-10-12 22:34:38.169',
  'winlog.event_data.SourceProcessGuid': '{71b87c12-d9fe-5f84-1901-000000000500}',
  'winlog.event_data.SourceProcessId': 6208,
  'winlog.event_data.SourceImage': 'C:\\Windows\\System32\\wuauclt.exe',
  'winlog.event_data': { TargetProcessGuid: '{71b87c12-d9fe-5f84-1a01-000000000500}', TargetProcessId: 2368 },
};

const XML_TEXT =
  "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System>" +
  "<Provider Name='Microsoft-Windows-Sysmon'/><EventID>8</EventID></System><EventData>" +
  "<Data Name='TargetImage'>&lt;unknown process&gt;</Data></EventData></Event>";

/** The same event 8 as the XML reader parses an `<Event>` element (all values strings). */
const XML_THREAD = {
  System: {
    Provider: { Name: 'Microsoft-Windows-Sysmon', Guid: '{5770385f-c22a-43e0-bf4c-06f5698ffbd9}' },
    EventID: { Qualifiers: '0', '#text': '8' },
    TimeCreated: { SystemTime: '2020-10-12T22:34:38.1700000Z' },
    EventRecordID: '338575',
    Channel: 'Microsoft-Windows-Sysmon/Operational',
    Computer: 'WORKSTATION5.theshire.local',
    Security: { UserID: 'S-1-5-18' },
  },
  EventData: {
    RuleName: '-',
    UtcTime: '2020-10-12 22:34:38.169',
    SourceProcessGuid: '{71b87c12-d9fe-5f84-1901-000000000500}',
    SourceProcessId: '6208',
    SourceImage: 'C:\\Windows\\System32\\wuauclt.exe',
    TargetProcessGuid: '{71b87c12-d9fe-5f84-1a01-000000000500}',
    TargetProcessId: '2368',
    TargetImage: '<unknown process>',
  },
};

function xmlRecord(value: Value, position = 4): SourceRecord {
  return record(value, position, XML_TEXT);
}

function withEventData(change: Value): Value {
  return { ...XML_THREAD, EventData: { ...XML_THREAD.EventData, ...change } };
}

function withSystem(change: Value): Value {
  return { ...XML_THREAD, System: { ...XML_THREAD.System, ...change } };
}

function withEcsData(change: Value): Value {
  return {
    ...ECS_THREAD,
    winlog: { ...ECS_THREAD.winlog, event_data: { ...ECS_THREAD.winlog.event_data, ...change } },
  };
}

describe('flat JSON (NXLog)', () => {
  it('maps a CreateRemoteThread from the Source* fields, keeping raw as received', () => {
    const input = record(FLAT_THREAD);
    const event = eventOf(mapSysmonRecord(input));

    expect(event).toEqual(THREAD_EVENT);
    expect(event.raw).toBe(input.value);
  });

  it('maps a ProcessCreate with its parent, trimming the host name for deviceName', () => {
    expect(mapFlat(FLAT_CREATE)).toEqual({
      ...NO_FIELDS,
      table: 'SysmonEvents',
      eventKey: 'r:2020-10-12T22:34:38.1760000Z:338571',
      deviceId: 'host:workstation5.theshire.local',
      deviceName: 'WORKSTATION5.theshire.local',
      timestamp: '2020-10-12T22:34:38.1760000Z',
      eventId: 1,
      actionType: 'ProcessCreate',
      recordId: '338571',
      processGuid: '71b87c12-d9fe-5f84-1a01-000000000500',
      processId: 2368,
      image: 'C:\\Windows\\System32\\notepad.exe',
      parentProcessGuid: '71b87c12-d9fe-5f84-1901-000000000500',
      parentProcessId: 6208,
      parentImage: 'C:\\Windows\\System32\\wuauclt.exe',
      raw: FLAT_CREATE,
    });
  });

  it('maps a NetworkConnect with its addresses, ports, protocol and direction', () => {
    expect(mapFlat(FLAT_CONNECT)).toMatchObject({
      eventId: 3,
      actionType: 'NetworkConnect',
      recordId: '243320',
      processGuid: '029f9482-bfb1-5f84-4e00-000000000400',
      processId: 3632,
      image: 'C:\\Windows\\ADWS\\Microsoft.ActiveDirectory.WebServices.exe',
      initiated: true,
      protocol: 'tcp',
      sourceIp: '0:0:0:0:0:0:0:1',
      sourcePort: 61026,
      destinationIp: '10.10.10.5',
      destinationPort: 9389,
      parentProcessGuid: null,
      targetProcessId: null,
      grantedAccess: null,
    });
  });

  it('maps a ProcessAccess from the ...GUID spellings, with GrantedAccess as logged', () => {
    expect(mapFlat(FLAT_ACCESS)).toEqual({
      ...NO_FIELDS,
      table: 'SysmonEvents',
      eventKey: 'r:2020-10-12T22:34:38.1690000Z:338570',
      deviceId: 'host:workstation5.theshire.local',
      deviceName: 'WORKSTATION5.theshire.local',
      timestamp: '2020-10-12T22:34:38.1690000Z',
      eventId: 10,
      actionType: 'ProcessAccess',
      recordId: '338570',
      processGuid: '71b87c12-d7e5-5f84-0e01-000000000500',
      processId: 3576,
      image: 'C:\\windows\\system32\\svchost.exe',
      targetProcessGuid: '71b87c12-d9fe-5f84-1a01-000000000500',
      targetProcessId: 2368,
      targetImage: 'c:\\windows\\system32\\notepad.exe',
      grantedAccess: '0x1fffff',
      raw: FLAT_ACCESS,
    });
  });

  it('prefers the ...Guid spelling when both are given', () => {
    const event = mapFlat({ ...FLAT_ACCESS, SourceProcessGuid: '{AAAAAAAA-0000-0000-0000-000000000001}' });

    expect(event.processGuid).toBe('aaaaaaaa-0000-0000-0000-000000000001');
  });

  it('maps a ProcessTerminate with the process fields only', () => {
    expect(mapFlat(FLAT_TERMINATE)).toEqual({
      ...NO_FIELDS,
      table: 'SysmonEvents',
      eventKey: 'r:2020-10-12T22:34:38.1850000Z:338584',
      deviceId: 'host:workstation5.theshire.local',
      deviceName: 'WORKSTATION5.theshire.local',
      timestamp: '2020-10-12T22:34:38.1850000Z',
      eventId: 5,
      actionType: 'ProcessTerminate',
      recordId: '338584',
      processGuid: '71b87c12-d9fe-5f84-1901-000000000500',
      processId: 6208,
      image: 'C:\\Windows\\System32\\wuauclt.exe',
      raw: FLAT_TERMINATE,
    });
  });

  it('reads EventID, pids and ports given as numbers or as text alike', () => {
    const asText = mapFlat({ ...FLAT_CONNECT, EventID: '3', RecordNumber: 243320 });
    const asNumbers = mapFlat({ ...FLAT_CONNECT, ProcessId: 3632, SourcePort: 61026, DestinationPort: 9389 });

    expect(typedFields(asText)).toEqual(typedFields(mapFlat(FLAT_CONNECT)));
    expect(typedFields(asNumbers)).toEqual(typedFields(mapFlat(FLAT_CONNECT)));
  });
});

describe('timestamps', () => {
  it('takes UtcTime, never the local EventTime, nor @timestamp when UtcTime is there', () => {
    const event = mapFlat({ ...FLAT_THREAD, '@timestamp': '2020-10-13T01:00:00Z' });

    expect(event.timestamp).toBe('2020-10-12T22:34:38.1690000Z');
  });

  it('falls back to @timestamp when UtcTime is absent, not to EventTime', () => {
    const event = mapFlat({ ...FLAT_THREAD, UtcTime: undefined });

    expect(event.timestamp).toBe('2020-10-12T22:34:38.9390000Z');
    expect(event.eventKey).toBe('r:2020-10-12T22:34:38.9390000Z:338575');
  });

  it('falls back to System.TimeCreated.SystemTime for XML without a UtcTime', () => {
    const { UtcTime: _utc, ...eventData } = XML_THREAD.EventData;
    const event = eventOf(mapSysmonRecord(xmlRecord({ ...XML_THREAD, EventData: eventData })));

    expect(event.timestamp).toBe('2020-10-12T22:34:38.1700000Z');
  });

  it('reads a UtcTime with an explicit zone as that zone', () => {
    expect(mapFlat({ ...FLAT_THREAD, UtcTime: '2020-10-12T18:34:38.169-04:00' }).timestamp).toBe(
      '2020-10-12T22:34:38.1690000Z',
    );
  });
});

describe('Winlogbeat / ECS documents', () => {
  it('maps the nested document to the same typed fields as the flat record, raw = the document', () => {
    const input = record(ECS_THREAD);
    const event = eventOf(mapSysmonRecord(input));

    expect(typedFields(event)).toEqual(typedFields(THREAD_EVENT));
    expect(event.raw).toBe(input.value);
  });

  it('reads dotted keys, also a dotted parent holding a nested object', () => {
    expect(typedFields(mapFlat(DOTTED_THREAD))).toEqual(typedFields(THREAD_EVENT));
  });

  it('takes the host from winlog.computer_name (the logging machine) before host.name (the shipper)', () => {
    const forwarded = mapFlat({ ...ECS_THREAD, host: { name: 'wec01' }, winlog: { ...ECS_THREAD.winlog } });
    const shipperOnly = mapFlat({
      ...ECS_THREAD,
      host: { name: 'WS9' },
      winlog: { ...ECS_THREAD.winlog, computer_name: '' },
    });

    expect([forwarded.deviceId, forwarded.deviceName]).toEqual([
      'host:workstation5.theshire.local',
      'WORKSTATION5.theshire.local',
    ]);
    expect([shipperOnly.deviceId, shipperOnly.deviceName]).toEqual(['host:ws9', 'WS9']);
  });

  it('takes the host from winlog.computer_name when host.name is absent', () => {
    const event = mapFlat({
      ...ECS_THREAD,
      host: { name: '' },
      winlog: { ...ECS_THREAD.winlog, computer_name: 'DC1.' },
    });

    expect([event.deviceId, event.deviceName]).toEqual(['host:dc1', 'DC1.']);
  });

  it('falls back to ECS process, network, source and destination fields when event_data lacks them', () => {
    const event = mapFlat({
      '@timestamp': '2020-10-12T22:32:53.988Z',
      host: { name: 'MORDORDC' },
      winlog: { channel: 'Microsoft-Windows-Sysmon/Operational', event_id: 3, event_data: { RuleName: '-' } },
      process: { entity_id: '{029F9482-BFB1-5F84-4E00-000000000400}', pid: 3632, executable: 'C:\\ADWS\\ws.exe' },
      network: { transport: 'tcp', direction: 'egress' },
      source: { ip: '10.0.0.9', port: 61026 },
      destination: { ip: '10.0.0.1', port: 9389 },
    });

    expect(event).toMatchObject({
      timestamp: '2020-10-12T22:32:53.9880000Z',
      recordId: null,
      processGuid: '029f9482-bfb1-5f84-4e00-000000000400',
      processId: 3632,
      image: 'C:\\ADWS\\ws.exe',
      initiated: true,
      protocol: 'tcp',
      sourceIp: '10.0.0.9',
      sourcePort: 61026,
      destinationIp: '10.0.0.1',
      destinationPort: 9389,
    });
    expect(event.eventKey).toMatch(/^h:[0-9a-f]{64}$/);
  });

  it('falls back to process.parent.* for a ProcessCreate, and to process.* as the source of a thread', () => {
    const create = mapFlat({
      ...ECS_THREAD,
      winlog: { ...ECS_THREAD.winlog, event_id: 1, event_data: { UtcTime: '2020-10-12 22:34:38.176' } },
      process: { pid: 2368, parent: { entity_id: '{71b87c12-d9fe-5f84-1901-000000000500}', pid: '6208' } },
    });
    const thread = mapFlat({
      ...ECS_THREAD,
      winlog: { ...ECS_THREAD.winlog, event_data: { UtcTime: '2020-10-12 22:34:38.169', TargetProcessId: '2368' } },
      process: { entity_id: '{71b87c12-d9fe-5f84-1901-000000000500}', pid: 6208, executable: 'C:\\w.exe' },
    });

    expect(create).toMatchObject({ processId: 2368, parentProcessId: 6208, parentImage: null });
    expect(create.parentProcessGuid).toBe('71b87c12-d9fe-5f84-1901-000000000500');
    expect(thread).toMatchObject({ processId: 6208, image: 'C:\\w.exe', targetProcessId: 2368 });
    expect(thread.processGuid).toBe('71b87c12-d9fe-5f84-1901-000000000500');
  });

  it('prefers event_data over the ECS fallback', () => {
    const event = mapFlat({ ...ECS_THREAD, process: { pid: 1, executable: 'C:\\other.exe' } });

    expect([event.processId, event.image]).toEqual([6208, 'C:\\Windows\\System32\\wuauclt.exe']);
  });

  it.each([
    ['egress', true],
    ['Outbound', true],
    ['ingress', false],
    ['inbound', false],
    ['internal', null],
  ])('reads network.direction %s as initiated %s', (direction, initiated) => {
    const value = {
      '@timestamp': '2020-10-12T22:32:53.988Z',
      'host.name': 'MORDORDC',
      'winlog.event_id': '3',
      'network.direction': direction,
    };

    expect(mapFlat(value).initiated).toBe(initiated);
  });
});

describe('Windows event XML (as parsed by the XML reader)', () => {
  it('maps the parsed element to the same typed fields, raw = the element text', () => {
    const event = eventOf(mapSysmonRecord(xmlRecord(XML_THREAD)));

    expect(typedFields(event)).toEqual(typedFields(THREAD_EVENT));
    expect(event.raw).toEqual({ xml: XML_TEXT });
  });

  it('reads EventID given as plain text and as an element with attributes', () => {
    const plain = eventOf(mapSysmonRecord(xmlRecord(withSystem({ EventID: '8' }))));

    expect(typedFields(plain)).toEqual(typedFields(THREAD_EVENT));
  });

  it('reads the ...GUID spellings of a ProcessAccess', () => {
    const access = {
      System: { ...XML_THREAD.System, EventID: '10' },
      EventData: {
        UtcTime: '2020-10-12 22:34:38.169',
        SourceProcessGUID: '{71B87C12-D7E5-5F84-0E01-000000000500}',
        SourceProcessId: '3576',
        TargetProcessGUID: '{71b87c12-d9fe-5f84-1a01-000000000500}',
        TargetProcessId: '2368',
        GrantedAccess: '0x1410',
      },
    };
    const event = eventOf(mapSysmonRecord(xmlRecord(access)));

    expect(event).toMatchObject({ eventId: 10, processId: 3576, targetProcessId: 2368, grantedAccess: '0x1410' });
    expect([event.processGuid, event.targetProcessGuid]).toEqual([
      '71b87c12-d7e5-5f84-0e01-000000000500',
      '71b87c12-d9fe-5f84-1a01-000000000500',
    ]);
  });

  it('does not let an event-data name like __proto__ or constructor reach a prototype', () => {
    const eventData: Value = { ...XML_THREAD.EventData };
    Object.defineProperty(eventData, '__proto__', { value: 'x', enumerable: true });
    const event = eventOf(mapSysmonRecord(xmlRecord({ ...XML_THREAD, EventData: { ...eventData, constructor: 'y' } })));

    expect(typedFields(event)).toEqual(typedFields(THREAD_EVENT));
  });

  it('rejects an XML record without its original text (field null)', () => {
    expect(mapSysmonRecord(record(XML_THREAD, 6))).toEqual({
      kind: 'rejected',
      error: { record: 6, field: null, message: 'the original XML text of the event is missing; it is what is stored' },
    });
  });
});

describe('shape detection', () => {
  it('rejects a record of no known shape with field null, naming the keys looked for', () => {
    const result = mapSysmonRecord(record({ Timestamp: '2020-10-12T22:34:38Z', DeviceId: 'dev-1' }, 9));

    expect(result).toMatchObject({ kind: 'rejected', error: { record: 9, field: null } });
    const message = result.kind === 'rejected' ? result.error.message : '';
    for (const key of ['System', 'winlog.event_id', 'EventID']) expect(message).toContain(key);
  });

  it('passes a reader error on with field null', () => {
    const broken: SourceRecord = { position: 2, line: 3, value: {}, error: 'line 3 is not valid JSON' };

    expect(mapSysmonRecord(broken)).toEqual({
      kind: 'rejected',
      error: { record: 2, field: null, message: 'line 3 is not valid JSON' },
    });
  });
});

describe('skips', () => {
  it('skips a Security event, naming its channel', () => {
    const result = mapSysmonRecord(record({ ...FLAT_CONNECT, Channel: 'Security', EventID: 5156 }));

    expect(result).toEqual({
      kind: 'skipped',
      reason: 'channel Security is not Microsoft-Windows-Sysmon/Operational',
    });
  });

  it('skips other channels in the ECS and XML shapes too', () => {
    const ecs = mapSysmonRecord(record({ ...ECS_THREAD, winlog: { ...ECS_THREAD.winlog, channel: 'System' } }));
    const xml = mapSysmonRecord(xmlRecord(withSystem({ Channel: 'Windows PowerShell' })));

    expect(ecs).toEqual({ kind: 'skipped', reason: 'channel System is not Microsoft-Windows-Sysmon/Operational' });
    expect(xml).toMatchObject({ kind: 'skipped', reason: expect.stringContaining('channel Windows PowerShell') });
  });

  it('compares the channel without case', () => {
    expect(mapFlat({ ...FLAT_THREAD, Channel: 'microsoft-windows-sysmon/operational' }).eventId).toBe(8);
  });

  it('goes by the provider when no channel is given', () => {
    const other = mapSysmonRecord(record({ ...FLAT_THREAD, Channel: undefined, SourceName: 'EventLog' }));
    const sysmon = mapSysmonRecord(record({ ...FLAT_THREAD, Channel: '', SourceName: 'microsoft-windows-sysmon' }));
    const xml = mapSysmonRecord(xmlRecord(withSystem({ Channel: undefined, Provider: { Name: 'Service Control' } })));

    expect(other).toEqual({
      kind: 'skipped',
      reason: 'provider EventLog is not Microsoft-Windows-Sysmon (no channel given)',
    });
    expect(sysmon.kind).toBe('event');
    expect(xml).toMatchObject({ kind: 'skipped', reason: expect.stringContaining('provider Service Control') });
  });

  it('maps a record that names neither channel nor provider (it was sent to the Sysmon route)', () => {
    expect(mapFlat({ ...FLAT_THREAD, Channel: undefined, SourceName: undefined }).eventId).toBe(8);
  });

  it.each([
    [7, 'Sysmon event 7 (ImageLoad) is not used'],
    ['11', 'Sysmon event 11 (FileCreate) is not used'],
    [22, 'Sysmon event 22 (DnsQuery) is not used'],
    [99, 'Sysmon event 99 is not used'],
  ])('skips Sysmon event %s', (eventId, reason) => {
    expect(mapSysmonRecord(record({ ...FLAT_THREAD, EventID: eventId }))).toEqual({ kind: 'skipped', reason });
  });

  it('skips before checking the rest: a skipped record is not stored', () => {
    const result = mapSysmonRecord(record({ ...FLAT_THREAD, EventID: 7, Hostname: undefined, Keywords: -(2 ** 63) }));

    expect(result.kind).toBe('skipped');
  });
});

describe('rejections name the field', () => {
  const longName = 'h'.repeat(MAX_DEVICE_ID_LENGTH - 'host:'.length + 1);

  it.each([
    ['Hostname', { Hostname: undefined }, 'Hostname is required'],
    ['Hostname', { Hostname: '  ' }, 'Hostname is required'],
    ['Hostname', { Hostname: '.' }, 'Hostname is not a host name'],
    ['Hostname', { Hostname: longName }, `Hostname is longer than ${MAX_DEVICE_ID_LENGTH - 5} characters`],
    ['Hostname', { Hostname: { name: 'x' } }, 'Hostname must be a string'],
    ['UtcTime', { UtcTime: '2020-10-12 25:34:38.169' }, 'UtcTime is not a valid ISO 8601 timestamp'],
    ['UtcTime', { UtcTime: undefined, '@timestamp': '' }, 'UtcTime is required (@timestamp absent too)'],
    ['@timestamp', { UtcTime: null, '@timestamp': 'yesterday' }, '@timestamp is not a valid ISO 8601 timestamp'],
    ['EventID', { EventID: 'eight' }, 'EventID must be an integer'],
    ['EventID', { EventID: null }, 'EventID is required'],
    ['RecordNumber', { RecordNumber: '33e4' }, 'RecordNumber must be an integer'],
    ['RecordNumber', { RecordNumber: -1 }, 'RecordNumber must not be negative'],
    ['SourceProcessId', { SourceProcessId: '6208.0' }, 'SourceProcessId must be an integer'],
    ['SourceProcessId', { SourceProcessId: '-6208' }, 'SourceProcessId must be a process id (an integer >= 0)'],
    ['TargetProcessId', { TargetProcessId: 'notepad' }, 'TargetProcessId must be an integer'],
    ['SourceImage', { SourceImage: ['a'] }, 'SourceImage must be a string'],
    ['SourceProcessGuid', { SourceProcessGuid: { id: 1 } }, 'SourceProcessGuid must be a string'],
    ['Channel', { Channel: ['Security'] }, 'Channel must be a string'],
  ])('rejects a bad %s of a flat record', (field, change, message) => {
    const result = mapSysmonRecord(record({ ...FLAT_THREAD, ...change }, 7));

    expect(result).toEqual({ kind: 'rejected', error: { record: 7, field, message } });
  });

  it.each([
    ['Initiated', { Initiated: 'yes' }, 'Initiated must be true or false'],
    ['Initiated', { Initiated: 1 }, 'Initiated must be true or false'],
    ['DestinationPort', { DestinationPort: '65536' }, 'DestinationPort must be a port number between 0 and 65535'],
    ['SourcePort', { SourcePort: 'http' }, 'SourcePort must be an integer'],
    ['ProcessId', { ProcessId: '3632x' }, 'ProcessId must be an integer'],
  ])('rejects a bad %s of a network connection', (field, change, message) => {
    const result = mapSysmonRecord(record({ ...FLAT_CONNECT, ...change }, 1));

    expect(result).toEqual({ kind: 'rejected', error: { record: 1, field, message } });
  });

  it('reads Initiated as a boolean or as text in any case', () => {
    expect(mapFlat({ ...FLAT_CONNECT, Initiated: false }).initiated).toBe(false);
    expect(mapFlat({ ...FLAT_CONNECT, Initiated: 'FALSE' }).initiated).toBe(false);
    expect(mapFlat({ ...FLAT_CONNECT, Initiated: 'True' }).initiated).toBe(true);
    expect(mapFlat({ ...FLAT_CONNECT, Initiated: undefined }).initiated).toBe(null);
  });

  it.each([
    ['winlog.event_data.SourceProcessId', withEcsData({ SourceProcessId: 'x' }), 'must be an integer'],
    ['winlog.event_data.UtcTime', withEcsData({ UtcTime: '12/10/2020' }), 'is not a valid ISO 8601 timestamp'],
    ['winlog.event_id', { ...ECS_THREAD, winlog: { ...ECS_THREAD.winlog, event_id: '8a' } }, 'must be an integer'],
    ['winlog.record_id', { ...ECS_THREAD, winlog: { ...ECS_THREAD.winlog, record_id: 'r1' } }, 'must be an integer'],
    ['process.pid', { ...withEcsData({ SourceProcessId: undefined }), process: { pid: 'six' } }, 'must be an integer'],
    [
      'winlog.computer_name',
      { ...ECS_THREAD, host: {}, winlog: { ...ECS_THREAD.winlog, computer_name: undefined } },
      'is required (host.name absent too)',
    ],
  ])('rejects a bad %s of an ECS document', (field, value, message) => {
    const result = mapSysmonRecord(record(value, 3));

    expect(result).toEqual({ kind: 'rejected', error: { record: 3, field, message: `${field} ${message}` } });
  });

  it.each([
    ['EventData.TargetProcessId', withEventData({ TargetProcessId: '0x940' }), 'must be an integer'],
    ['EventData.UtcTime', withEventData({ UtcTime: '2020-10-12 22:34:61' }), 'is not a valid ISO 8601 timestamp'],
    ['System.EventID', withSystem({ EventID: { Qualifiers: '0' } }), 'must be an integer'],
    ['System.Computer', withSystem({ Computer: '' }), 'is required'],
    ['System.EventRecordID', withSystem({ EventRecordID: '1.5' }), 'must be an integer'],
  ])('rejects a bad %s of an XML event', (field, value, message) => {
    const result = mapSysmonRecord(xmlRecord(value, 8));

    expect(result).toEqual({ kind: 'rejected', error: { record: 8, field, message: `${field} ${message}` } });
  });
});

describe('values that cannot be stored', () => {
  it('rejects a NUL character, naming the field', () => {
    const result = mapSysmonRecord(record({ ...FLAT_THREAD, SourceImage: 'C:\\a\u0000.exe' }, 2));

    expect(result).toEqual({
      kind: 'rejected',
      error: {
        record: 2,
        field: 'SourceImage',
        message: 'SourceImage contains a NUL character, which PostgreSQL cannot store',
      },
    });
  });

  it('rejects an unpaired surrogate in a nested ECS field, naming its path', () => {
    const result = mapSysmonRecord(record(withEcsData({ SourceImage: 'C:\\\ud800.exe' })));

    expect(result).toMatchObject({ kind: 'rejected', error: { field: 'winlog.event_data.SourceImage' } });
  });

  it('rejects an integer beyond 2^53 (NXLog writes Keywords so) in a record without its text, naming the field', () => {
    const result = mapSysmonRecord(record({ ...FLAT_THREAD, Keywords: -9223372036854775808 }));

    expect(result).toMatchObject({ kind: 'rejected', error: { field: 'Keywords' } });
    expect(mapSysmonRecord(record({ ...FLAT_THREAD, Keywords: '-9223372036854775808' })).kind).toBe('event');
  });

  it('stores the same record as ExactJson of its text when the reader kept the text', () => {
    const value = { ...FLAT_THREAD, Keywords: -9223372036854775808 };
    const result = mapSysmonRecord(record(value, 4, KEYWORDS_TEXT));
    const event = eventOf(result);

    expect(event.raw).toBeInstanceOf(ExactJson);
    expect((event.raw as ExactJson).text).toBe(KEYWORDS_TEXT);
    expect(typedFields(event)).toEqual(typedFields(THREAD_EVENT));
  });

  it('still rejects a NUL character in a record stored from its text, naming the field', () => {
    const value = { ...FLAT_THREAD, Keywords: -9223372036854775808, SourceImage: 'C:\\a\u0000.exe' };
    const result = mapSysmonRecord(record(value, 3, nxlogText(value)));

    expect(result).toMatchObject({ kind: 'rejected', error: { record: 3, field: 'SourceImage' } });
  });

  it('rejects nesting deeper than 64 levels', () => {
    let deep: unknown = 'x';
    for (let i = 0; i < 70; i++) deep = { d: deep };
    const result = mapSysmonRecord(record({ ...FLAT_THREAD, Extra: deep }));

    expect(result).toMatchObject({ kind: 'rejected', error: { message: 'nested deeper than 64 levels' } });
  });

  it('checks the parsed XML values, naming the EventData field', () => {
    const result = mapSysmonRecord(xmlRecord(withEventData({ SourceImage: 'C:\\a\u0000.exe' })));

    expect(result).toMatchObject({ kind: 'rejected', error: { field: 'EventData.SourceImage' } });
  });
});

describe('normalisation', () => {
  it('strips braces and lower-cases GUIDs; an all-zero GUID, "-" or "{}" is null', () => {
    const zero = mapFlat({ ...FLAT_THREAD, TargetProcessGuid: '{00000000-0000-0000-0000-000000000000}' });
    const dash = mapFlat({ ...FLAT_THREAD, TargetProcessGuid: '-' });
    const braces = mapFlat({ ...FLAT_THREAD, TargetProcessGuid: '{}' });
    const bare = mapFlat({ ...FLAT_THREAD, TargetProcessGuid: '71B87C12-D9FE-5F84-1A01-000000000500' });

    expect([zero.targetProcessGuid, dash.targetProcessGuid, braces.targetProcessGuid]).toEqual([null, null, null]);
    expect(bare.targetProcessGuid).toBe('71b87c12-d9fe-5f84-1a01-000000000500');
  });

  it.each(['<unknown process>', '<UNKNOWN PROCESS>', '&lt;Unknown Process&gt;', '-', '', ' '])(
    'reads the image %j as null',
    (image) => {
      expect(mapFlat({ ...FLAT_THREAD, TargetImage: image }).targetImage).toBe(null);
    },
  );

  it('keeps an image exactly as logged otherwise', () => {
    expect(mapFlat({ ...FLAT_THREAD, TargetImage: 'c:\\Windows\\notepad.exe ' }).targetImage).toBe(
      'c:\\Windows\\notepad.exe ',
    );
  });

  it('makes deviceId host: + the lower-cased name without a final dot; deviceName is the name trimmed', () => {
    const event = mapFlat({ ...FLAT_THREAD, Hostname: '\tWorkStation5.TheShire.Local.\n' });

    expect([event.deviceId, event.deviceName]).toEqual([
      'host:workstation5.theshire.local',
      'WorkStation5.TheShire.Local.',
    ]);
  });

  it('accepts a host name of the longest length that fits a device id', () => {
    const name = 'h'.repeat(MAX_DEVICE_ID_LENGTH - 'host:'.length);

    expect(mapFlat({ ...FLAT_THREAD, Hostname: name }).deviceId).toHaveLength(MAX_DEVICE_ID_LENGTH);
  });

  it('leaves fields null that the event id does not carry, even when the record has them', () => {
    const extras = {
      ParentProcessGuid: '{71b87c12-0000-0000-0000-000000000001}',
      ParentProcessId: '1',
      ParentImage: 'C:\\p.exe',
      TargetProcessGuid: '{71b87c12-0000-0000-0000-000000000002}',
      TargetProcessId: '2',
      TargetImage: 'C:\\t.exe',
      Initiated: 'true',
      Protocol: 'tcp',
      SourceIp: '10.0.0.1',
      SourcePort: '1',
      DestinationIp: '10.0.0.2',
      DestinationPort: '2',
      GrantedAccess: '0x1410',
    };
    const terminate = mapFlat({ ...FLAT_TERMINATE, ...extras });
    const thread = mapFlat({ ...FLAT_THREAD, ...extras, SourceProcessId: '6208' });
    const connect = mapFlat({ ...FLAT_CONNECT, ...extras });

    expect(terminate).toMatchObject({
      ...NO_FIELDS,
      processId: 6208,
      processGuid: expect.any(String),
      image: expect.any(String),
    });
    expect(thread).toMatchObject({
      parentProcessId: null,
      initiated: null,
      destinationPort: null,
      grantedAccess: null,
    });
    expect(thread.targetProcessId).toBe(2);
    expect(connect).toMatchObject({ parentImage: null, targetProcessId: null, grantedAccess: null });
  });

  it('ignores the ProcessId NXLog writes beside the Source* fields of events 8 and 10', () => {
    expect(mapFlat({ ...FLAT_ACCESS, ProcessId: '4' }).processId).toBe(3576);
  });
});

describe('event keys', () => {
  const { RecordNumber: _recordNumber, ...withoutRecord } = FLAT_THREAD;

  it('tells apart records without a record id that differ only in the digits of an integer parsing rounds', () => {
    const text = (keywords: string) =>
      JSON.stringify({ ...withoutRecord, Keywords: 0 }).replace('"Keywords":0', `"Keywords":${keywords}`);
    const [a, b] = ['-9223372036854775807', '-9223372036854775808'].map((k) => {
      const line = text(k);
      return eventOf(mapSysmonRecord(record(JSON.parse(line) as Value, 0, line)));
    });

    expect(a!.raw).toBeInstanceOf(ExactJson);
    expect(a!.eventKey).toMatch(/^h:/);
    expect(a!.eventKey).not.toBe(b!.eventKey);
  });

  it('is r:<timestamp>:<record id> in every shape, so one event sent three ways is stored once', () => {
    const keys = [record(FLAT_THREAD), record(ECS_THREAD), record(DOTTED_THREAD), xmlRecord(XML_THREAD)].map(
      (input) => eventOf(mapSysmonRecord(input)).eventKey,
    );

    expect(new Set(keys)).toEqual(new Set(['r:2020-10-12T22:34:38.1690000Z:338575']));
  });

  it('is h: + sha256 of { fields, record } as JSON with keys sorted at every depth when there is no record id', () => {
    const event = mapFlat(withoutRecord);
    const fields = {
      actionType: 'CreateRemoteThread',
      destinationIp: null,
      destinationPort: null,
      deviceId: 'host:workstation5.theshire.local',
      deviceName: 'WORKSTATION5.theshire.local',
      eventId: 8,
      grantedAccess: null,
      image: 'C:\\Windows\\System32\\wuauclt.exe',
      initiated: null,
      parentImage: null,
      parentProcessGuid: null,
      parentProcessId: null,
      processGuid: '71b87c12-d9fe-5f84-1901-000000000500',
      processId: 6208,
      protocol: null,
      recordId: null,
      sourceIp: null,
      sourcePort: null,
      table: 'SysmonEvents',
      targetImage: null,
      targetProcessGuid: '71b87c12-d9fe-5f84-1a01-000000000500',
      targetProcessId: 2368,
      timestamp: '2020-10-12T22:34:38.1690000Z',
    };
    const logged = {
      '@timestamp': '2020-10-12T22:34:38.939Z',
      Channel: 'Microsoft-Windows-Sysmon/Operational',
      EventID: 8,
      EventReceivedTime: '2020-10-12 18:34:38',
      EventTime: '2020-10-12 18:34:38',
      Hostname: 'WORKSTATION5.theshire.local',
      Message: 'CreateRemoteThread detected',
      ProcessId: '6208',
      SourceImage: 'C:\\Windows\\System32\\wuauclt.exe',
      SourceName: 'Microsoft-Windows-Sysmon',
      SourceProcessGuid: '{71B87C12-D9FE-5F84-1901-000000000500}',
      SourceProcessId: '6208',
      TargetImage: '&lt;unknown process&gt;',
      TargetProcessGuid: '{71b87c12-d9fe-5f84-1a01-000000000500}',
      TargetProcessId: '2368',
      UtcTime: '2020-10-12 22:34:38.169',
    };
    const hash = createHash('sha256')
      .update(JSON.stringify({ fields, record: logged }))
      .digest('hex');

    expect(event.eventKey).toBe(`h:${hash}`);
  });

  it('gives a repeat of the same record the same h: key, whatever the order of its keys', () => {
    const base = mapFlat(withoutRecord).eventKey;
    const reversed = Object.fromEntries(Object.entries(withoutRecord).reverse());
    const nested = { ...withoutRecord, Extra: { b: 1, a: [{ d: 2, c: 3 }] } };
    const nestedReversed = { ...withoutRecord, Extra: { a: [{ c: 3, d: 2 }], b: 1 } };

    expect(mapFlat({ ...withoutRecord }).eventKey).toBe(base);
    expect(mapFlat(reversed).eventKey).toBe(base);
    expect(mapFlat(nested).eventKey).toBe(mapFlat(nestedReversed).eventKey);
  });

  it('gives another h: key when any field differs, typed or not (Sysmon logs events alike in every typed one)', () => {
    const base = mapFlat(withoutRecord).eventKey;
    const others = [
      { ...withoutRecord, Message: 'other text' },
      { ...withoutRecord, EventTime: '2001-01-01 00:00:00' },
      { ...withoutRecord, SourceThreadId: '4242' },
      { ...withoutRecord, TargetProcessId: '2369' },
      { ...withoutRecord, UtcTime: '2020-10-12 22:34:38.170' },
    ].map((value) => mapFlat(value).eventKey);

    expect(others.every((key) => /^h:[0-9a-f]{64}$/.test(key))).toBe(true);
    expect(new Set([base, ...others]).size).toBe(6);
  });

  it('keys two records that differ only in an untyped field apart, their typed fields equal', () => {
    const first = mapFlat({ ...withoutRecord, CallTrace: 'C:\\Windows\\SYSTEM32\\ntdll.dll+9c584' });
    const second = mapFlat({ ...withoutRecord, CallTrace: 'C:\\Windows\\SYSTEM32\\ntdll.dll+9c585' });
    const { eventKey: firstKey, ...firstFields } = typedFields(first);
    const { eventKey: secondKey, ...secondFields } = typedFields(second);

    expect(firstFields).toEqual(secondFields);
    expect(firstKey).not.toBe(secondKey);
  });
});
