/**
 * Microsoft Defender for Endpoint mapper: one advanced-hunting row (a table route, a streaming-API envelope or
 * a row of a `union` export) → one canonical event, a skip with its reason, or a record error.
 *
 * Strings are kept exactly as received (no trimming, no case change); only `""` becomes null. `raw` is the
 * received object itself. IP columns: MDE writes `-` when it has no address; `raw` keeps it, while the typed
 * `remoteIp` / `localIp` are null for any value that does not look like an IPv4 or IPv6 address.
 */
import { InvalidInputError } from '../../common/domain.errors.js';
import {
  EventTable,
  HOST_DEVICE_PREFIX,
  isHostDeviceId,
  MAX_DEVICE_ID_LENGTH,
} from '../../vocabulary/graph.vocabulary.js';
import type { DefenderEvent, DeviceEvent, DeviceNetworkEvent, MapResult, RecordError } from '../event.types.js';
import type { SourceRecord } from '../readers/record.types.js';
import { contentEventKey, reportEventKey } from './event-key.js';
import { mdeTableName, routeUnionRow } from './mde.routing.js';
import {
  fieldError,
  isAbsent,
  parseLong,
  parsePort,
  parseProcessId,
  parseTimestamp,
  readIpAddress,
  readRequiredString,
  readString,
  stripUnionSuffixes,
  type Row,
} from './normalize.js';
import { rawOfJsonRecord } from './unstorable.js';

export type { SourceRecord };

type DefenderMapResult = MapResult<DefenderEvent>;

type CommonFields = Omit<
  DeviceEvent,
  'table' | 'raw' | 'fileName' | 'folderPath' | 'processId' | 'processCreationTime' | 'processUniqueId'
>;

/** A row of DeviceEvents or DeviceNetworkEvents, as the table route names it (no guessing from content). */
export function mapMdeRow(record: SourceRecord, table: EventTable): DefenderMapResult {
  if (record.error !== undefined) return rejected(record.position, null, record.error);

  return mapRow(record, stripUnionSuffixes(record.value), table);
}

/** A Defender streaming-API (Event Hub) envelope `{time, tenantId, operationName, category, properties}`. */
export function mapStreamingRecord(record: SourceRecord): DefenderMapResult {
  if (record.error !== undefined) return rejected(record.position, null, record.error);
  const envelope = record.value;
  const category = envelope.category;
  if (typeof category !== 'string' || isAbsent(category)) {
    return rejected(record.position, 'category', 'category is required');
  }

  const table = mdeTableName(category);
  if (table === null) return { kind: 'skipped', reason: `category ${category} is not ingested` };
  const properties = envelope.properties;
  if (!isPlainObject(properties)) {
    const message = isAbsent(properties) ? 'properties is required' : 'properties must be an object';
    return rejected(record.position, 'properties', message);
  }

  return mapRow(record, stripUnionSuffixes(properties), table);
}

/** A plain row of a `union` export: routed by a table column, else by its action type (see mde.routing.ts). */
export function mapUnionRow(record: SourceRecord): DefenderMapResult {
  if (record.error !== undefined) return rejected(record.position, null, record.error);
  const row = stripUnionSuffixes(record.value);
  const route = routeUnionRow(row);

  if (route.table === null) return { kind: 'skipped', reason: route.reason };
  return mapRow(record, row, route.table);
}

/**
 * What a table route calls for every record: a row of that table, or a streaming-API envelope, which is kept
 * when its category is that table and skipped (with the reason) when it belongs to another.
 */
export function mapTableRecord(record: SourceRecord, table: EventTable): DefenderMapResult {
  if (!isStreamingEnvelope(record.value)) return mapMdeRow(record, table);

  const result = mapStreamingRecord(record);
  if (result.kind !== 'event' || result.event.table === table) return result;
  return { kind: 'skipped', reason: `a ${result.event.table} record posted to the ${table} route` };
}

/** What `/api/v1/events` calls for every record: streaming envelopes and plain union rows. */
export function mapEventsRecord(record: SourceRecord): DefenderMapResult {
  return isStreamingEnvelope(record.value) ? mapStreamingRecord(record) : mapUnionRow(record);
}

/** An envelope has `category`, and `properties` unless it is a plain row that happens to have `category`. */
function isStreamingEnvelope(value: Row): boolean {
  if (value.category === undefined) return false;

  return value.properties !== undefined || value.ActionType === undefined;
}

function isPlainObject(value: unknown): value is Row {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Longest DeviceId and image names accepted: they are index keys, and a btree entry must stay under ~2.7 kB. */
const MAX_FILE_NAME_LENGTH = 260;

/** `row` is the Defender row inside the record (the record itself, or its `properties`); `raw` is the record. */
function mapRow(record: SourceRecord, row: Row, table: EventTable): DefenderMapResult {
  const position = record.position;
  const { raw, unstorable } = rawOfJsonRecord(record);
  if (unstorable !== null) return rejected(position, unstorable.field, unstorable.message);

  try {
    const event = table === EventTable.DeviceEvents ? toDeviceEvent(row, raw) : toNetworkEvent(row, raw);
    return { kind: 'event', event };
  } catch (error) {
    if (!(error instanceof InvalidInputError)) throw error;
    return { kind: 'rejected', error: toRecordError(position, error) };
  }
}

function rejected(position: number, field: string | null, message: string): DefenderMapResult {
  return { kind: 'rejected', error: { record: position, field, message } };
}

function toRecordError(position: number, error: InvalidInputError): RecordError {
  const field = error.details?.field;

  return { record: position, field: typeof field === 'string' ? field : null, message: error.message };
}

function toDeviceEvent(row: Row, raw: unknown): DeviceEvent {
  const common = readCommonFields(row);

  return {
    table: EventTable.DeviceEvents,
    ...common,
    fileName: readBoundedString(row.FileName, 'FileName', MAX_FILE_NAME_LENGTH),
    folderPath: readString(row.FolderPath, 'FolderPath'),
    processId: parseProcessId(row.ProcessId, 'ProcessId'),
    processCreationTime: parseTimestamp(row.ProcessCreationTime, 'ProcessCreationTime'),
    processUniqueId: parseLong(row.ProcessUniqueId, 'ProcessUniqueId'),
    raw,
  };
}

function toNetworkEvent(row: Row, raw: unknown): DeviceNetworkEvent {
  const common = readCommonFields(row);

  return {
    table: EventTable.DeviceNetworkEvents,
    ...common,
    remoteIp: readIpAddress(row.RemoteIP, 'RemoteIP'),
    remotePort: parsePort(row.RemotePort, 'RemotePort'),
    remoteUrl: readString(row.RemoteUrl, 'RemoteUrl'),
    localIp: readIpAddress(row.LocalIP, 'LocalIP'),
    localPort: parsePort(row.LocalPort, 'LocalPort'),
    protocol: readString(row.Protocol, 'Protocol'),
    raw,
  };
}

function readBoundedString(value: unknown, field: string, max: number): string | null {
  const text = readString(value, field);
  if (text !== null && text.length > max) throw fieldError(field, `${field} is longer than ${max} characters`);

  return text;
}

/** Required columns first (DeviceId, Timestamp, ActionType), in that order, then the shared typed columns. */
function readCommonFields(row: Row): CommonFields {
  const deviceId = readRequiredString(row.DeviceId, 'DeviceId');
  if (deviceId.length > MAX_DEVICE_ID_LENGTH)
    throw fieldError('DeviceId', `DeviceId is longer than ${MAX_DEVICE_ID_LENGTH} characters`);
  if (isHostDeviceId(deviceId))
    throw fieldError(
      'DeviceId',
      `DeviceId must not start with "${HOST_DEVICE_PREFIX}": that prefix names Sysmon hosts`,
    );
  const timestamp = parseTimestamp(row.Timestamp, 'Timestamp');
  if (timestamp === null) throw fieldError('Timestamp', 'Timestamp is required');
  const actionType = readRequiredString(row.ActionType, 'ActionType');
  const reportId = parseLong(row.ReportId, 'ReportId');
  if (reportId !== null && reportId.startsWith('-')) throw fieldError('ReportId', 'ReportId must not be negative');

  return {
    eventKey: reportId === null ? contentEventKey(row) : reportEventKey(timestamp, reportId),
    deviceId,
    deviceName: readString(row.DeviceName, 'DeviceName'),
    timestamp,
    reportId,
    actionType,
    initiatingProcessId: parseProcessId(row.InitiatingProcessId, 'InitiatingProcessId'),
    initiatingProcessFileName: readBoundedString(
      row.InitiatingProcessFileName,
      'InitiatingProcessFileName',
      MAX_FILE_NAME_LENGTH,
    ),
    initiatingProcessFolderPath: readString(row.InitiatingProcessFolderPath, 'InitiatingProcessFolderPath'),
    initiatingProcessCreationTime: parseTimestamp(row.InitiatingProcessCreationTime, 'InitiatingProcessCreationTime'),
    initiatingProcessParentId: parseProcessId(row.InitiatingProcessParentId, 'InitiatingProcessParentId'),
    initiatingProcessParentCreationTime: parseTimestamp(
      row.InitiatingProcessParentCreationTime,
      'InitiatingProcessParentCreationTime',
    ),
    initiatingProcessParentFileName: readBoundedString(
      row.InitiatingProcessParentFileName,
      'InitiatingProcessParentFileName',
      MAX_FILE_NAME_LENGTH,
    ),
    initiatingProcessUniqueId: parseLong(row.InitiatingProcessUniqueId, 'InitiatingProcessUniqueId'),
  };
}
