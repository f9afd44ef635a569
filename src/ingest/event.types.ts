import type { EventTable } from '../vocabulary/graph.vocabulary.js';

/** A record's JSON source text, stored as `raw` instead of its parsed value because parsing rounded a number. */
export class ExactJson {
  constructor(readonly text: string) {}
}

/**
 * Canonical events: what source mappers produce and storage writes. Typed columns carry what the
 * correlation and the graph read; `raw` keeps the record exactly as it was received.
 * Times are canonical ISO 8601 UTC strings with seven fractional digits
 * (`2023-10-18T14:37:28.2012261Z`), so no precision of the source is lost.
 */
interface CanonicalEventBase {
  table: EventTable;
  /** Identity inside (table, deviceId): `r:<timestamp>:<reportId>` or `h:<sha256 of canonical content>`. */
  eventKey: string;
  deviceId: string;
  deviceName: string | null;
  timestamp: string;
  reportId: string | null;
  actionType: string;
  initiatingProcessId: number | null;
  initiatingProcessFileName: string | null;
  initiatingProcessFolderPath: string | null;
  initiatingProcessCreationTime: string | null;
  initiatingProcessParentId: number | null;
  initiatingProcessUniqueId: string | null;
  /** The parent of the initiating process, when the row names it (graph mode tells recycled parent pids apart). */
  initiatingProcessParentCreationTime?: string | null;
  initiatingProcessParentFileName?: string | null;
  /** The record as received (a row, or a streaming-API envelope around it). */
  raw: unknown;
}

export interface DeviceEvent extends CanonicalEventBase {
  table: 'DeviceEvents';
  fileName: string | null;
  folderPath: string | null;
  processId: number | null;
  processCreationTime: string | null;
  processUniqueId: string | null;
}

export interface DeviceNetworkEvent extends CanonicalEventBase {
  table: 'DeviceNetworkEvents';
  remoteIp: string | null;
  remotePort: number | null;
  remoteUrl: string | null;
  localIp: string | null;
  localPort: number | null;
  protocol: string | null;
}

/** The Sysmon events the service stores; any other Sysmon event id is counted as skipped. */
export const SysmonEventId = {
  ProcessCreate: 1,
  NetworkConnect: 3,
  ProcessTerminate: 5,
  CreateRemoteThread: 8,
  ProcessAccess: 10,
} as const;
export type SysmonEventId = (typeof SysmonEventId)[keyof typeof SysmonEventId];

/**
 * One Sysmon event, whatever shape it came in (NXLog-style flat JSON, Winlogbeat/ECS, Windows event XML).
 * The acting process is `process*`: the created process (1), the connecting process (3), the ending
 * process (5), the source of the thread or the access (8, 10). `target*` is the process acted on (8, 10).
 * Images are full paths as logged; `<unknown process>` (also HTML-escaped) is stored as null.
 * GUIDs are lower-cased without braces. `timestamp` is `UtcTime` (UTC, canonical seven digits).
 */
export interface SysmonEvent {
  table: 'SysmonEvents';
  /** `r:<timestamp>:<record id>` or `h:<sha256>` of the canonical event data. */
  eventKey: string;
  /** `host:` + the lower-cased host name: one stable id per host. */
  deviceId: string;
  /** Host name as logged (`Hostname`, `host.name` or `Computer`). */
  deviceName: string;
  timestamp: string;
  eventId: SysmonEventId;
  /** The Sysmon rule name of the event id (`ProcessCreate`, `NetworkConnect`, ...). */
  actionType: string;
  recordId: string | null;
  processGuid: string | null;
  processId: number | null;
  image: string | null;
  parentProcessGuid: string | null;
  parentProcessId: number | null;
  parentImage: string | null;
  targetProcessGuid: string | null;
  targetProcessId: number | null;
  targetImage: string | null;
  /** Event 3 only. */
  initiated: boolean | null;
  protocol: string | null;
  sourceIp: string | null;
  sourcePort: number | null;
  destinationIp: string | null;
  destinationPort: number | null;
  /** Event 10 only, as logged (`0x1410`). */
  grantedAccess: string | null;
  /** The record as received; for XML, `{ xml: "<Event ...>...</Event>" }` holding the element's text. */
  raw: unknown;
}

export type CanonicalEvent = DeviceEvent | DeviceNetworkEvent | SysmonEvent;
export type DefenderEvent = DeviceEvent | DeviceNetworkEvent;

/** A record-level problem: which record (0-based position in the body), which field, what is wrong. */
export interface RecordError {
  record: number;
  field: string | null;
  message: string;
}

/** What a mapper returns for one input record. */
export type MapResult<E extends CanonicalEvent = CanonicalEvent> =
  { kind: 'event'; event: E } | { kind: 'skipped'; reason: string } | { kind: 'rejected'; error: RecordError };

export interface IngestReport {
  received: number;
  inserted: number;
  duplicates: number;
  skipped: number;
  rejected: number;
  errors: RecordError[];
}
