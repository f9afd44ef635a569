/**
 * Microsoft Defender for Endpoint mapper: one advanced-hunting row (a table route, a streaming-API envelope or
 * a row of a `union` export) → one canonical event, a skip with its reason, or a record error.
 *
 * Strings are kept exactly as received (no trimming, no case change); only `""` becomes null. `raw` is the
 * received object itself. IP columns: MDE writes `-` when it has no address; `raw` keeps it, while the typed
 * `remoteIp` / `localIp` are null for any value that does not look like an IPv4 or IPv6 address.
 */
import { InvalidInputError } from '../../common/domain.errors.js';
import { EventTable, MAX_DEVICE_ID_LENGTH } from '../../vocabulary/graph.vocabulary.js';
import type { DeviceEvent, DeviceNetworkEvent, MapResult, RecordError } from '../event.types.js';
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

export type { SourceRecord };

type CommonFields = Omit<
  DeviceEvent,
  'table' | 'raw' | 'fileName' | 'folderPath' | 'processId' | 'processCreationTime' | 'processUniqueId'
>;

/** A row of DeviceEvents or DeviceNetworkEvents, as the table route names it (no guessing from content). */
export function mapMdeRow(record: SourceRecord, table: EventTable): MapResult {
  if (record.error !== undefined) return rejected(record.position, null, record.error);

  return mapRow(record.position, stripUnionSuffixes(record.value), table, record.value);
}

/** A Defender streaming-API (Event Hub) envelope `{time, tenantId, operationName, category, properties}`. */
export function mapStreamingRecord(record: SourceRecord): MapResult {
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

  return mapRow(record.position, stripUnionSuffixes(properties), table, envelope);
}

/** A plain row of a `union` export: routed by a table column, else by its action type (see mde.routing.ts). */
export function mapUnionRow(record: SourceRecord): MapResult {
  if (record.error !== undefined) return rejected(record.position, null, record.error);
  const row = stripUnionSuffixes(record.value);
  const route = routeUnionRow(row);

  if (route.table === null) return { kind: 'skipped', reason: route.reason };
  return mapRow(record.position, row, route.table, record.value);
}

/**
 * What a table route calls for every record: a row of that table, or a streaming-API envelope, which is kept
 * when its category is that table and skipped (with the reason) when it belongs to another.
 */
export function mapTableRecord(record: SourceRecord, table: EventTable): MapResult {
  if (!isStreamingEnvelope(record.value)) return mapMdeRow(record, table);

  const result = mapStreamingRecord(record);
  if (result.kind !== 'event' || result.event.table === table) return result;
  return { kind: 'skipped', reason: `a ${result.event.table} record posted to the ${table} route` };
}

/** What `/api/v1/events` calls for every record: streaming envelopes and plain union rows. */
export function mapEventsRecord(record: SourceRecord): MapResult {
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

function mapRow(position: number, row: Row, table: EventTable, raw: unknown): MapResult {
  const unstorable = findUnstorable(raw, '', 0);
  if (unstorable !== null) return rejected(position, unstorable.field, unstorable.message);

  try {
    const event = table === EventTable.DeviceEvents ? toDeviceEvent(row, raw) : toNetworkEvent(row, raw);
    return { kind: 'event', event };
  } catch (error) {
    if (!(error instanceof InvalidInputError)) throw error;
    return { kind: 'rejected', error: toRecordError(position, error) };
  }
}

/** Deepest nesting of arrays and objects kept in `raw` (real Defender rows nest two or three levels). */
const MAX_NESTING = 64;

interface Unstorable {
  field: string;
  message: string;
}

/**
 * The first value that cannot be stored as received: a NUL character or an unpaired UTF-16 surrogate (PostgreSQL's
 * text and jsonb refuse both), an integer that JSON parsing already rounded, or nesting deeper than MAX_NESTING.
 */
function findUnstorable(value: unknown, path: string, depth: number): Unstorable | null {
  if (typeof value === 'string') return textProblem(value, path || '(record)');
  if (typeof value === 'number') return numberProblem(value, path || '(record)');
  if (value === null || typeof value !== 'object') return null;
  if (depth >= MAX_NESTING) return { field: path || '(record)', message: `nested deeper than ${MAX_NESTING} levels` };

  for (const [key, item] of Object.entries(value)) {
    const itemPath = path ? `${path}.${key}` : key;
    const found = textProblem(key, itemPath) ?? findUnstorable(item, itemPath, depth + 1);
    if (found !== null) return found;
  }
  return null;
}

/** An integer past 2^53 has already lost digits in JSON.parse: storing it would not be lossless. */
function numberProblem(value: number, field: string): Unstorable | null {
  if (!Number.isInteger(value) || Number.isSafeInteger(value)) return null;

  return {
    field,
    message: `${field} is an integer beyond 2^53 that JSON numbers cannot carry exactly; send it as a string`,
  };
}

function textProblem(text: string, field: string): Unstorable | null {
  if (text.includes('\u0000'))
    return { field, message: `${field} contains a NUL character, which PostgreSQL cannot store` };
  if (!(text as string & { isWellFormed(): boolean }).isWellFormed()) {
    return { field, message: `${field} contains an unpaired UTF-16 surrogate, which is not valid Unicode` };
  }
  return null;
}

function rejected(position: number, field: string | null, message: string): MapResult {
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
    initiatingProcessUniqueId: parseLong(row.InitiatingProcessUniqueId, 'InitiatingProcessUniqueId'),
  };
}
