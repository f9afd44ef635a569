/**
 * Sysmon events as shippers write them, for HTTP tests: the flat NXLog shape of the OTRF recordings, the same event
 * as a Winlogbeat/ECS document, and as Windows event XML. Field names and value spellings follow the real files
 * (pids as strings, `Initiated` as "true", GUIDs in braces, `UtcTime` without a zone).
 */
export type FlatEvent = Record<string, unknown>;

let recordSeq = 5000;

const CHANNEL = 'Microsoft-Windows-Sysmon/Operational';
const PROVIDER_GUID = '{5770385F-C22A-43E0-BF4C-06F5698FFBD9}';

function base(eventId: number, hostname: string, utcTime: string): FlatEvent {
  return {
    EventID: eventId,
    Channel: CHANNEL,
    SourceName: 'Microsoft-Windows-Sysmon',
    ProviderGuid: PROVIDER_GUID,
    Hostname: hostname,
    RecordNumber: recordSeq++,
    UtcTime: utcTime,
    // Local time in the recordings: the service must never read it as UTC.
    EventTime: '2024-03-01 06:00:00',
    Keywords: -9223372036854775808,
    RuleName: '-',
  };
}

export function processCreate(hostname: string, utcTime: string, process: SysmonProcess, parent: SysmonProcess) {
  return {
    ...base(1, hostname, utcTime),
    ProcessGuid: process.guid,
    ProcessId: String(process.pid),
    Image: process.image,
    ParentProcessGuid: parent.guid,
    ParentProcessId: String(parent.pid),
    ParentImage: parent.image,
    CommandLine: process.image,
  };
}

export function remoteThread(hostname: string, utcTime: string, source: SysmonProcess, target: SysmonProcess) {
  return {
    ...base(8, hostname, utcTime),
    SourceProcessGuid: source.guid,
    SourceProcessId: String(source.pid),
    SourceImage: source.image,
    TargetProcessGuid: target.guid,
    TargetProcessId: String(target.pid),
    TargetImage: target.image,
    NewThreadId: '6932',
    StartAddress: '0x000001E811820000',
  };
}

export function networkConnect(hostname: string, utcTime: string, process: SysmonProcess, port = 9389) {
  return {
    ...base(3, hostname, utcTime),
    ProcessGuid: process.guid,
    ProcessId: String(process.pid),
    Image: process.image,
    Protocol: 'tcp',
    Initiated: 'true',
    SourceIp: '10.0.0.50',
    SourcePort: '50123',
    DestinationIp: '10.0.0.10',
    DestinationPort: String(port),
  };
}

export interface SysmonProcess {
  guid: string;
  pid: number;
  image: string;
}

/** The same event as a Winlogbeat document: `winlog.*`, `host.name`, event data under `winlog.event_data`. */
export function toEcs(event: FlatEvent): Record<string, unknown> {
  const { EventID, Channel, SourceName, Hostname, RecordNumber, ProviderGuid: _g, EventTime: _t, ...data } = event;
  const { Keywords: _k, ...eventData } = data;

  return {
    '@timestamp': '2024-03-01T10:00:09.000Z',
    host: { name: Hostname },
    winlog: {
      event_id: EventID,
      channel: Channel,
      provider_name: SourceName,
      computer_name: Hostname,
      record_id: RecordNumber,
      event_data: eventData,
    },
  };
}

/** The same event as Windows event XML (one `<Event>` element), values escaped as an EVTX export escapes them. */
export function toXml(event: FlatEvent): string {
  const { EventID, Channel, SourceName, Hostname, RecordNumber, ProviderGuid, EventTime: _t, ...data } = event;
  const { Keywords: _k, ...eventData } = data;
  const dataXml = Object.entries(eventData)
    .map(([name, value]) => `<Data Name='${name}'>${escapeXml(String(value))}</Data>`)
    .join('');

  return (
    `<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System>` +
    `<Provider Name='${SourceName}' Guid='${ProviderGuid}'/><EventID>${EventID}</EventID><Version>5</Version>` +
    `<TimeCreated SystemTime='2024-03-01T10:00:09.0000000Z'/><EventRecordID>${RecordNumber}</EventRecordID>` +
    `<Channel>${Channel}</Channel><Computer>${Hostname}</Computer><Security UserID='S-1-5-18'/></System>` +
    `<EventData>${dataXml}</EventData></Event>`
  );
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/'/g, '&apos;');
}

/** NDJSON with `Keywords` written as the bare 64-bit number NXLog writes (JSON.stringify would round it). */
export function toNdjsonLines(events: FlatEvent[]): string {
  return (
    events
      .map((e) => JSON.stringify(e).replace('"Keywords":-9223372036854776000', '"Keywords":-9223372036854775808'))
      .join('\n') + '\n'
  );
}
