/**
 * The mapping between canonical events and their two SQL tables, in one place: column lists, the COPY
 * values of an event and the canonical event of a selected row. Rows come back with `raw: null`; the raw
 * record is fetched separately (`raw::text`) only when a caller asks for it.
 */
import type { CanonicalEvent, DeviceEvent, DeviceNetworkEvent } from '../ingest/event.types.js';
import {
  ADWS_CONNECTION_ACTION_TYPE,
  canonicalInjectionActionType,
  EventTable,
} from '../vocabulary/graph.vocabulary.js';
import { JsonCell } from './csv.js';

export type Row = Record<string, unknown>;

export interface EventTableSpec<E extends CanonicalEvent> {
  table: E['table'];
  sqlTable: string;
  /** Columns written by COPY, in the order of `toValues`. */
  columns: readonly string[];
  /** Columns read back into a canonical event (no `raw`, no `received_at`). */
  readColumns: readonly string[];
  toValues(event: E, receivedAt: string): unknown[];
  fromRow(row: Row): E;
  /** Whether a newly stored row of this action type can change a detection result. */
  mattersToDetection(actionType: string): boolean;
}

const HEAD = ['device_id', 'event_key', 'timestamp_text', 'device_name', 'report_id', 'action_type'] as const;
const INITIATOR = [
  'initiating_process_id',
  'initiating_process_file_name',
  'initiating_process_folder_path',
  'initiating_process_creation_time',
  'initiating_process_parent_id',
  'initiating_process_unique_id',
] as const;
const TARGET = ['file_name', 'folder_path', 'process_id', 'process_creation_time', 'process_unique_id'] as const;
const REMOTE = ['remote_ip', 'remote_port', 'remote_url', 'local_ip', 'local_port', 'protocol'] as const;
const TAIL = ['raw', 'received_at'] as const;

export const DEVICE_EVENTS: EventTableSpec<DeviceEvent> = {
  table: EventTable.DeviceEvents,
  sqlTable: 'device_events',
  columns: ['timestamp', ...HEAD, ...TARGET, ...INITIATOR, ...TAIL],
  readColumns: [...HEAD, ...TARGET, ...INITIATOR],
  toValues: (e, receivedAt) => [
    ...headValues(e),
    e.fileName,
    e.folderPath,
    e.processId,
    e.processCreationTime,
    e.processUniqueId,
    ...initiatorValues(e),
    new JsonCell(e.raw),
    receivedAt,
  ],
  fromRow: (row) => ({
    ...baseFromRow(row),
    table: EventTable.DeviceEvents,
    fileName: text(row.file_name),
    folderPath: text(row.folder_path),
    processId: integer(row.process_id),
    processCreationTime: text(row.process_creation_time),
    processUniqueId: text(row.process_unique_id),
  }),
  mattersToDetection: (actionType) => canonicalInjectionActionType(actionType) !== null,
};

export const DEVICE_NETWORK_EVENTS: EventTableSpec<DeviceNetworkEvent> = {
  table: EventTable.DeviceNetworkEvents,
  sqlTable: 'device_network_events',
  columns: ['timestamp', ...HEAD, ...REMOTE, ...INITIATOR, ...TAIL],
  readColumns: [...HEAD, ...REMOTE, ...INITIATOR],
  toValues: (e, receivedAt) => [
    ...headValues(e),
    e.remoteIp,
    e.remotePort,
    e.remoteUrl,
    e.localIp,
    e.localPort,
    e.protocol,
    ...initiatorValues(e),
    new JsonCell(e.raw),
    receivedAt,
  ],
  fromRow: (row) => ({
    ...baseFromRow(row),
    table: EventTable.DeviceNetworkEvents,
    remoteIp: text(row.remote_ip),
    remotePort: integer(row.remote_port),
    remoteUrl: text(row.remote_url),
    localIp: text(row.local_ip),
    localPort: integer(row.local_port),
    protocol: text(row.protocol),
  }),
  mattersToDetection: (actionType) => actionType === ADWS_CONNECTION_ACTION_TYPE,
};

export function specOf(table: EventTable): EventTableSpec<CanonicalEvent> {
  const spec = table === EventTable.DeviceEvents ? DEVICE_EVENTS : DEVICE_NETWORK_EVENTS;

  return spec as EventTableSpec<CanonicalEvent>;
}

/** `timestamp` (timestamptz) and `timestamp_text` both come from the canonical time. */
function headValues(e: CanonicalEvent): unknown[] {
  return [e.timestamp, e.deviceId, e.eventKey, e.timestamp, e.deviceName, e.reportId, e.actionType];
}

function initiatorValues(e: CanonicalEvent): unknown[] {
  return [
    e.initiatingProcessId,
    e.initiatingProcessFileName,
    e.initiatingProcessFolderPath,
    e.initiatingProcessCreationTime,
    e.initiatingProcessParentId,
    e.initiatingProcessUniqueId,
  ];
}

function baseFromRow(row: Row): Omit<CanonicalEvent, 'table'> {
  return {
    eventKey: String(row.event_key),
    deviceId: String(row.device_id),
    deviceName: text(row.device_name),
    timestamp: String(row.timestamp_text),
    reportId: text(row.report_id),
    actionType: String(row.action_type),
    initiatingProcessId: integer(row.initiating_process_id),
    initiatingProcessFileName: text(row.initiating_process_file_name),
    initiatingProcessFolderPath: text(row.initiating_process_folder_path),
    initiatingProcessCreationTime: text(row.initiating_process_creation_time),
    initiatingProcessParentId: integer(row.initiating_process_parent_id),
    initiatingProcessUniqueId: text(row.initiating_process_unique_id),
    raw: null,
  };
}

function text(value: unknown): string | null {
  return value === null || value === undefined ? null : String(value);
}

/** `bigint` columns arrive as strings from `pg` and as numbers or bigints from PGlite. */
function integer(value: unknown): number | null {
  return value === null || value === undefined ? null : Number(value);
}
