/**
 * Canonical events for tests and benches. Each call gets a fresh report id and a later timestamp, so
 * events are distinct unless a test reuses an `eventKey` on purpose. `raw` looks like an advanced-hunting
 * row of about 30 columns (Windows paths, a nested AdditionalFields object).
 */
import type { DeviceEvent, DeviceNetworkEvent } from '../../src/ingest/event.types.js';
import { ADWS_CONNECTION_ACTION_TYPE, EventTable } from '../../src/vocabulary/graph.vocabulary.js';

let sequence = 0;
const BASE_MS = Date.UTC(2024, 2, 1, 10, 0, 0);

/** Canonical time text with seven fractional digits, `n` steps of 1.0000001 s after the base. */
export function canonicalTime(n: number): string {
  const iso = new Date(BASE_MS + n * 1000).toISOString();

  return `${iso.slice(0, 19)}.${String(n % 10_000_000).padStart(7, '0')}Z`;
}

function nextIdentity(deviceId: string, overrides: { timestamp?: string; reportId?: string | null }) {
  const n = ++sequence;
  const timestamp = overrides.timestamp ?? canonicalTime(n);
  const reportId = overrides.reportId === undefined ? String(10_000 + n) : overrides.reportId;

  return { n, timestamp, reportId, eventKey: `r:${timestamp}:${reportId ?? n}`, deviceId };
}

export function deviceEvent(overrides: Partial<DeviceEvent> = {}): DeviceEvent {
  const id = nextIdentity(overrides.deviceId ?? 'device-a', overrides);
  const base: DeviceEvent = {
    table: EventTable.DeviceEvents,
    eventKey: id.eventKey,
    deviceId: id.deviceId,
    deviceName: 'ws01.contoso.local',
    timestamp: id.timestamp,
    reportId: id.reportId,
    actionType: 'CreateRemoteThreadApiCall',
    fileName: 'lsass.exe',
    folderPath: 'C:\\Windows\\System32\\lsass.exe',
    processId: 700,
    processCreationTime: canonicalTime(1),
    processUniqueId: '17000',
    ...initiator(),
    raw: null,
  };
  const event = { ...base, ...overrides, eventKey: overrides.eventKey ?? id.eventKey };

  return { ...event, raw: overrides.raw === undefined ? rawRow(event) : overrides.raw };
}

export function networkEvent(overrides: Partial<DeviceNetworkEvent> = {}): DeviceNetworkEvent {
  const id = nextIdentity(overrides.deviceId ?? 'device-a', overrides);
  const base: DeviceNetworkEvent = {
    table: EventTable.DeviceNetworkEvents,
    eventKey: id.eventKey,
    deviceId: id.deviceId,
    deviceName: 'ws01.contoso.local',
    timestamp: id.timestamp,
    reportId: id.reportId,
    actionType: ADWS_CONNECTION_ACTION_TYPE,
    remoteIp: '10.0.0.10',
    remotePort: 9389,
    remoteUrl: null,
    localIp: '10.0.0.21',
    localPort: 50_000 + (id.n % 10_000),
    protocol: 'Tcp',
    ...initiator(),
    raw: null,
  };
  const event = { ...base, ...overrides, eventKey: overrides.eventKey ?? id.eventKey };

  return { ...event, raw: overrides.raw === undefined ? rawRow(event) : overrides.raw };
}

/** An injection into process (pid, file) on a device. */
export function injectionInto(deviceId: string, processId: number, fileName: string, more: Partial<DeviceEvent> = {}) {
  return deviceEvent({ deviceId, processId, fileName, ...more });
}

/** A successful connection made by process (pid, file) on a device. */
export function connectionFrom(
  deviceId: string,
  processId: number,
  fileName: string,
  more: Partial<DeviceNetworkEvent> = {},
): DeviceNetworkEvent {
  return networkEvent({ deviceId, initiatingProcessId: processId, initiatingProcessFileName: fileName, ...more });
}

function initiator() {
  return {
    initiatingProcessId: 4242,
    initiatingProcessFileName: 'rundll32.exe',
    initiatingProcessFolderPath: 'C:\\Windows\\System32\\rundll32.exe',
    initiatingProcessCreationTime: canonicalTime(0),
    initiatingProcessParentId: 1200,
    initiatingProcessUniqueId: '9001',
    initiatingProcessParentCreationTime: null,
    initiatingProcessParentFileName: null,
  };
}

/** A raw advanced-hunting row consistent with the typed fields. */
export function rawRow(e: DeviceEvent | DeviceNetworkEvent): Record<string, unknown> {
  const x = e as Partial<DeviceEvent & Omit<DeviceNetworkEvent, 'table'>>;

  return {
    Timestamp: x.timestamp,
    DeviceId: x.deviceId,
    DeviceName: x.deviceName,
    ActionType: x.actionType,
    FileName: x.fileName ?? null,
    FolderPath: x.folderPath ?? null,
    SHA1: 'a94a8fe5ccb19ba61c4c0873d391e987982fbbd3',
    SHA256: '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
    MD5: '098f6bcd4621d373cade4e832627b4f6',
    ProcessId: x.processId ?? null,
    ProcessCommandLine: null,
    ProcessCreationTime: x.processCreationTime ?? null,
    RemoteIP: x.remoteIp ?? null,
    RemotePort: x.remotePort ?? null,
    LocalIP: x.localIp ?? null,
    LocalPort: x.localPort ?? null,
    Protocol: x.protocol ?? null,
    AccountDomain: 'contoso',
    AccountName: 'svc-backup',
    AccountSid: 'S-1-5-21-1004336348-1177238915-682003330-1105',
    InitiatingProcessId: x.initiatingProcessId,
    InitiatingProcessFileName: x.initiatingProcessFileName,
    InitiatingProcessFolderPath: x.initiatingProcessFolderPath,
    InitiatingProcessCommandLine: `"rundll32.exe" C:\\Users\\Public\\payload.dll,Start "quoted, arg"`,
    InitiatingProcessCreationTime: x.initiatingProcessCreationTime,
    InitiatingProcessParentId: x.initiatingProcessParentId,
    InitiatingProcessParentFileName: 'explorer.exe',
    InitiatingProcessAccountName: 'svc-backup',
    InitiatingProcessUniqueId: x.initiatingProcessUniqueId,
    AdditionalFields: { ThreadId: 5120, StartAddress: 140_703_128_616_960, Region: { Size: 4096, Protect: 'RWX' } },
    ReportId: x.reportId,
  };
}
