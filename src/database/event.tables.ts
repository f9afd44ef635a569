/**
 * The mapping between canonical events and their two SQL tables, in one place: column lists, the COPY
 * values of an event and the canonical event of a selected row. Rows come back with `raw: null`; the raw
 * record is fetched separately (`raw::text`) only when a caller asks for it.
 */
import {
  type SysmonEventId,
  type CanonicalEvent,
  type DefenderEvent,
  type DeviceEvent,
  type DeviceNetworkEvent,
  type SysmonEvent,
} from '../ingest/event.types.js';
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
  'initiating_process_parent_creation_time',
  'initiating_process_parent_file_name',
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

const SYSMON_HEAD = ['device_id', 'event_key', 'timestamp_text', 'device_name', 'event_id', 'action_type'] as const;
const SYSMON_BODY = [
  'record_id',
  'process_guid',
  'process_id',
  'image',
  'parent_process_guid',
  'parent_process_id',
  'parent_image',
  'target_process_guid',
  'target_process_id',
  'target_image',
  'initiated',
  'protocol',
  'source_ip',
  'source_port',
  'destination_ip',
  'destination_port',
  'granted_access',
] as const;

/** Sysmon events whose arrival can change a detection result: creates (names, GUIDs), connections, threads. */
const SYSMON_DETECTION_TYPES: ReadonlySet<string> = new Set(['ProcessCreate', 'NetworkConnect', 'CreateRemoteThread']);

export const SYSMON_EVENTS: EventTableSpec<SysmonEvent> = {
  table: EventTable.SysmonEvents,
  sqlTable: 'sysmon_events',
  columns: ['timestamp', ...SYSMON_HEAD, ...SYSMON_BODY, ...TAIL],
  readColumns: [...SYSMON_HEAD, ...SYSMON_BODY],
  toValues: (e, receivedAt) => [
    e.timestamp,
    e.deviceId,
    e.eventKey,
    e.timestamp,
    e.deviceName,
    e.eventId,
    e.actionType,
    e.recordId,
    e.processGuid,
    e.processId,
    e.image,
    e.parentProcessGuid,
    e.parentProcessId,
    e.parentImage,
    e.targetProcessGuid,
    e.targetProcessId,
    e.targetImage,
    e.initiated,
    e.protocol,
    e.sourceIp,
    e.sourcePort,
    e.destinationIp,
    e.destinationPort,
    e.grantedAccess,
    new JsonCell(e.raw),
    receivedAt,
  ],
  fromRow: (row) => ({
    table: EventTable.SysmonEvents,
    eventKey: String(row.event_key),
    deviceId: String(row.device_id),
    deviceName: String(row.device_name),
    timestamp: String(row.timestamp_text),
    eventId: Number(row.event_id) as SysmonEventId,
    actionType: String(row.action_type),
    recordId: text(row.record_id),
    processGuid: text(row.process_guid),
    processId: integer(row.process_id),
    image: text(row.image),
    parentProcessGuid: text(row.parent_process_guid),
    parentProcessId: integer(row.parent_process_id),
    parentImage: text(row.parent_image),
    targetProcessGuid: text(row.target_process_guid),
    targetProcessId: integer(row.target_process_id),
    targetImage: text(row.target_image),
    initiated: bool(row.initiated),
    protocol: text(row.protocol),
    sourceIp: text(row.source_ip),
    sourcePort: integer(row.source_port),
    destinationIp: text(row.destination_ip),
    destinationPort: integer(row.destination_port),
    grantedAccess: text(row.granted_access),
    raw: null,
  }),
  mattersToDetection: (actionType) => SYSMON_DETECTION_TYPES.has(actionType),
};

/** Every event table, in the order writers take row locks. */
export const EVENT_TABLE_SPECS: readonly EventTableSpec<CanonicalEvent>[] = [
  DEVICE_EVENTS,
  DEVICE_NETWORK_EVENTS,
  SYSMON_EVENTS,
] as unknown as EventTableSpec<CanonicalEvent>[];

export function specOf(table: EventTable): EventTableSpec<CanonicalEvent> {
  const spec = EVENT_TABLE_SPECS.find((s) => s.table === table);
  if (!spec) throw new Error(`no SQL table for events of ${table}`);

  return spec;
}

/** `timestamp` (timestamptz) and `timestamp_text` both come from the canonical time. */
function headValues(e: DefenderEvent): unknown[] {
  return [e.timestamp, e.deviceId, e.eventKey, e.timestamp, e.deviceName, e.reportId, e.actionType];
}

function initiatorValues(e: DefenderEvent): unknown[] {
  return [
    e.initiatingProcessId,
    e.initiatingProcessFileName,
    e.initiatingProcessFolderPath,
    e.initiatingProcessCreationTime,
    e.initiatingProcessParentId,
    e.initiatingProcessUniqueId,
    e.initiatingProcessParentCreationTime ?? null,
    e.initiatingProcessParentFileName ?? null,
  ];
}

function baseFromRow(row: Row): Omit<DefenderEvent, 'table'> {
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
    initiatingProcessParentCreationTime: text(row.initiating_process_parent_creation_time),
    initiatingProcessParentFileName: text(row.initiating_process_parent_file_name),
    raw: null,
  };
}

function text(value: unknown): string | null {
  return value === null || value === undefined ? null : String(value);
}

function bool(value: unknown): boolean | null {
  return value === null || value === undefined ? null : value === true || value === 't' || value === 'true';
}

/** `bigint` columns arrive as strings from `pg` and as numbers or bigints from PGlite. */
function integer(value: unknown): number | null {
  return value === null || value === undefined ? null : Number(value);
}
