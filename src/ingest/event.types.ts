import type { EventTable } from '../vocabulary/graph.vocabulary.js';

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

export type CanonicalEvent = DeviceEvent | DeviceNetworkEvent;

/** A record-level problem: which record (0-based position in the body), which field, what is wrong. */
export interface RecordError {
  record: number;
  field: string | null;
  message: string;
}

/** What a mapper returns for one input record. */
export type MapResult =
  | { kind: 'event'; event: CanonicalEvent }
  | { kind: 'skipped'; reason: string }
  | { kind: 'rejected'; error: RecordError };

export interface IngestReport {
  received: number;
  inserted: number;
  duplicates: number;
  skipped: number;
  rejected: number;
  errors: RecordError[];
}
