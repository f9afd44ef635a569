/**
 * Sysmon mapper: one Sysmon event, in any of three shipper shapes, → one SysmonEvent, a skip with its reason, or
 * a record error naming the field (the path in the received record, e.g. `winlog.event_data.ProcessId`).
 *
 * Shapes, told apart per record: Windows event XML as the XML reader parses it (a `System` object; `raw` keeps
 * the element's original text), a Winlogbeat / ECS document (a `winlog` object or `winlog.`-dotted keys, nested
 * and dotted keys both read), and NXLog-style flat JSON (a top-level `EventID`). Events of another channel, or of
 * another provider when no channel is given, are skipped, as are the Sysmon event ids the detection does not
 * use. A record that names neither a channel nor a provider is taken as Sysmon: it was sent to the Sysmon route.
 */
import { createHash } from 'node:crypto';

import { InvalidInputError } from '../../common/domain.errors.js';
import {
  EventTable,
  HOST_DEVICE_PREFIX,
  hostDeviceId,
  hostNameKey,
  MAX_DEVICE_ID_LENGTH,
} from '../../vocabulary/graph.vocabulary.js';
import { SysmonEventId, type MapResult, type RecordError, type SysmonEvent } from '../event.types.js';
import type { SourceRecord } from '../readers/record.types.js';
import { reportEventKey, sortKeysDeep } from './event-key.js';
import {
  fieldError,
  isAbsent,
  parseInteger,
  parseLong,
  parsePort,
  parseProcessId,
  parseTimestamp,
  readIpAddress,
  readString,
  type Row,
} from './normalize.js';
import { findUnstorable, rawOfJsonRecord, type Unstorable } from './unstorable.js';

export type { SourceRecord };

type SysmonMapResult = MapResult<SysmonEvent>;
type SysmonFields = Omit<SysmonEvent, 'eventKey' | 'raw'>;

const SYSMON_CHANNEL = 'Microsoft-Windows-Sysmon/Operational';
const SYSMON_PROVIDER = 'Microsoft-Windows-Sysmon';
const NO_SHAPE_MESSAGE =
  'not a Sysmon record of a known shape: looked for System (Windows event XML), winlog.event_id or ' +
  'winlog.* keys (Winlogbeat/ECS) and EventID (flat JSON)';

/** The rule name of each used event id: SysmonEventId's own keys (`ProcessCreate`, ...). */
const ACTION_TYPES: ReadonlyMap<number, string> = new Map(
  Object.entries(SysmonEventId).map(([name, id]) => [id, name]),
);

/** Names of the Sysmon event ids that are skipped, for the skip reason. */
const UNUSED_EVENT_NAMES: ReadonlyMap<number, string> = new Map([
  [2, 'FileCreateTime'],
  [4, 'Sysmon service state change'],
  [6, 'DriverLoad'],
  [7, 'ImageLoad'],
  [9, 'RawAccessRead'],
  [11, 'FileCreate'],
  [12, 'RegistryEvent, object create and delete'],
  [13, 'RegistryEvent, value set'],
  [14, 'RegistryEvent, rename'],
  [15, 'FileCreateStreamHash'],
  [16, 'Sysmon configuration change'],
  [17, 'PipeEvent, pipe created'],
  [18, 'PipeEvent, pipe connected'],
  [19, 'WmiEvent, filter'],
  [20, 'WmiEvent, consumer'],
  [21, 'WmiEvent, binding'],
  [22, 'DnsQuery'],
  [23, 'FileDelete'],
  [24, 'ClipboardChange'],
  [25, 'ProcessTampering'],
  [26, 'FileDeleteDetected'],
  [27, 'FileBlockExecutable'],
  [28, 'FileBlockShredding'],
  [29, 'FileExecutableDetected'],
  [255, 'Error'],
]);

/** Where Winlogbeat pipelines that move event data into ECS put it, by the event-data name it replaces. */
const ECS_FALLBACKS: ReadonlyMap<string, string> = new Map([
  ['ProcessGuid', 'process.entity_id'],
  ['ProcessId', 'process.pid'],
  ['Image', 'process.executable'],
  ['SourceProcessGuid', 'process.entity_id'],
  ['SourceProcessId', 'process.pid'],
  ['SourceImage', 'process.executable'],
  ['ParentProcessGuid', 'process.parent.entity_id'],
  ['ParentProcessId', 'process.parent.pid'],
  ['ParentImage', 'process.parent.executable'],
  ['DestinationIp', 'destination.ip'],
  ['DestinationPort', 'destination.port'],
  ['SourceIp', 'source.ip'],
  ['SourcePort', 'source.port'],
  ['Protocol', 'network.transport'],
  ['Initiated', 'network.direction'],
]);
const DIRECTION_FIELD = 'network.direction';
const INITIATED_DIRECTIONS: ReadonlyMap<string, boolean> = new Map([
  ['egress', true],
  ['outbound', true],
  ['ingress', false],
  ['inbound', false],
]);

/** Event-data names of one process role; the first spelling present wins (event 10 writes `...GUID`). */
interface ProcessNames {
  guid: readonly string[];
  pid: readonly string[];
  image: readonly string[];
}

const OWN_PROCESS: ProcessNames = { guid: ['ProcessGuid'], pid: ['ProcessId'], image: ['Image'] };
const SOURCE_PROCESS: ProcessNames = {
  guid: ['SourceProcessGuid', 'SourceProcessGUID'],
  pid: ['SourceProcessId'],
  image: ['SourceImage'],
};
const PARENT_PROCESS: ProcessNames = { guid: ['ParentProcessGuid'], pid: ['ParentProcessId'], image: ['ParentImage'] };
const TARGET_PROCESS: ProcessNames = {
  guid: ['TargetProcessGuid', 'TargetProcessGUID'],
  pid: ['TargetProcessId'],
  image: ['TargetImage'],
};

const UNKNOWN_IMAGES: ReadonlySet<string> = new Set(['-', '<unknown process>', '&lt;unknown process&gt;']);
/** All zeros, `-` or nothing left once the braces are gone: Sysmon's way of saying "no process". */
const NO_GUID = /^[0-]*$/;

/** A value read from the record and the path it was read at, which an error names. */
interface Found {
  value: unknown;
  field: string;
}

/** One record seen through its shape: the header values and a reader of the Sysmon event-data fields. */
interface SysmonView {
  channel: Found;
  provider: Found;
  eventId: Found;
  /** Host name candidates, in order of preference. */
  hosts: Found[];
  recordId: Found;
  /** UtcTime first, then the shape's fallback. */
  times: Found[];
  /** The first of the given spellings that holds a value (then an ECS fallback), else the first, absent. */
  data(names: readonly string[]): Found;
  /** The original text is what an XML record keeps as `raw`. */
  isXml: boolean;
}

interface ProcessFields {
  guid: string | null;
  pid: number | null;
  image: string | null;
}

const NO_PROCESS: ProcessFields = { guid: null, pid: null, image: null };

/** One Sysmon record of any supported shape → an event, a skip (other channel, unused event id) or an error. */
export function mapSysmonRecord(record: SourceRecord): SysmonMapResult {
  if (record.error !== undefined) return rejected(record.position, null, record.error);
  const view = viewOf(record.value);
  if (view === null) return rejected(record.position, null, NO_SHAPE_MESSAGE);

  try {
    return mapView(record, view);
  } catch (error) {
    if (!(error instanceof InvalidInputError)) throw error;
    return { kind: 'rejected', error: toRecordError(record.position, error) };
  }
}

function mapView(record: SourceRecord, view: SysmonView): SysmonMapResult {
  const notSysmon = notSysmonReason(view);
  if (notSysmon !== null) return { kind: 'skipped', reason: notSysmon };
  const eventId = readEventId(view.eventId);
  if (!isUsedEventId(eventId)) return { kind: 'skipped', reason: unusedEventReason(eventId) };

  if (view.isXml && record.text === undefined) {
    return rejected(record.position, null, 'the original XML text of the event is missing; it is what is stored');
  }
  const { raw, unstorable } = view.isXml ? rawOfXmlRecord(record) : rawOfJsonRecord(record);
  if (unstorable !== null) return rejected(record.position, unstorable.field, unstorable.message);

  const fields = readFields(view, eventId);
  const eventKey = sysmonEventKey(fields, view.isXml || record.text === undefined ? record.value : record.text);
  return { kind: 'event', event: { ...fields, eventKey, raw } };
}

/** An XML event is stored as `{ xml: <its text> }`; its parsed values are checked too, so errors name the field. */
function rawOfXmlRecord(record: SourceRecord): { raw: unknown; unstorable: Unstorable | null } {
  const raw = { xml: record.text };

  return { raw, unstorable: findUnstorable(record.value) ?? findUnstorable(raw) };
}

function rejected(position: number, field: string | null, message: string): SysmonMapResult {
  return { kind: 'rejected', error: { record: position, field, message } };
}

function toRecordError(position: number, error: InvalidInputError): RecordError {
  const field = error.details?.field;

  return { record: position, field: typeof field === 'string' ? field : null, message: error.message };
}

/** XML first (a `System` object), then ECS (`winlog`), then flat (`EventID`); null when none matches. */
function viewOf(value: Row): SysmonView | null {
  if (isPlainObject(ownValue(value, 'System'))) return xmlView(value);
  if (hasWinlog(value)) return ecsView(value);

  return Object.hasOwn(value, 'EventID') ? flatView(value) : null;
}

function hasWinlog(value: Row): boolean {
  if (isPlainObject(ownValue(value, 'winlog'))) return true;

  return Object.keys(value).some((key) => key.startsWith('winlog.'));
}

function flatView(value: Row): SysmonView {
  const top = (name: string): Found => ({ value: ownValue(value, name), field: name });

  return {
    channel: top('Channel'),
    provider: top('SourceName'),
    eventId: top('EventID'),
    hosts: [top('Hostname')],
    recordId: top('RecordNumber'),
    times: [top('UtcTime'), top('@timestamp')],
    data: (names) => firstPresent(names.map(top)),
    isXml: false,
  };
}

function ecsView(value: Row): SysmonView {
  const at = (path: string): Found => ({ value: lookup(value, path.split('.')), field: path });
  const eventData = (name: string): Found => at(`winlog.event_data.${name}`);
  const fallback = (name: string): Found[] => {
    const path = ECS_FALLBACKS.get(name);
    return path === undefined ? [] : [at(path)];
  };

  return {
    channel: at('winlog.channel'),
    provider: at('winlog.provider_name'),
    eventId: at('winlog.event_id'),
    // computer_name is the machine that logged the event; host.name is the shipper's host, which differs when
    // events are forwarded (Windows Event Forwarding to a collector running Winlogbeat).
    hosts: [at('winlog.computer_name'), at('host.name')],
    recordId: at('winlog.record_id'),
    times: [eventData('UtcTime'), at('@timestamp')],
    data: (names) => firstPresent([...names.map(eventData), ...fallback(names[0])]),
    isXml: false,
  };
}

function xmlView(value: Row): SysmonView {
  const system = value.System as Row;
  const eventData = ownValue(value, 'EventData');
  const dataRow: Row = isPlainObject(eventData) ? eventData : {};
  const sys = (path: string): Found => ({
    value: elementText(lookup(system, path.split('.'))),
    field: `System.${path}`,
  });
  const data = (name: string): Found => ({ value: elementText(ownValue(dataRow, name)), field: `EventData.${name}` });

  return {
    channel: sys('Channel'),
    provider: sys('Provider.Name'),
    eventId: sys('EventID'),
    hosts: [sys('Computer')],
    recordId: sys('EventRecordID'),
    times: [data('UtcTime'), sys('TimeCreated.SystemTime')],
    data: (names) => firstPresent(names.map(data)),
    isXml: true,
  };
}

/** An XML element with attributes and text comes as `{ ...attributes, '#text': text }`: its text is the value. */
function elementText(value: unknown): unknown {
  return isPlainObject(value) && Object.hasOwn(value, '#text') ? value['#text'] : value;
}

/** A value at a path where each step is a nested object or part of a dotted key (`winlog.event_id`). */
function lookup(node: unknown, parts: readonly string[]): unknown {
  if (parts.length === 0) return node;
  if (!isPlainObject(node)) return undefined;

  for (let take = 1; take <= parts.length; take++) {
    const key = take === 1 ? parts[0] : parts.slice(0, take).join('.');
    if (!Object.hasOwn(node, key)) continue;
    const found = lookup(node[key], parts.slice(take));
    if (!isAbsent(found)) return found;
  }
  return undefined;
}

function ownValue(row: Row, key: string): unknown {
  return Object.hasOwn(row, key) ? row[key] : undefined;
}

function isPlainObject(value: unknown): value is Row {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function firstPresent(candidates: Found[]): Found {
  return candidates.find((found) => !isAbsent(found.value)) ?? candidates[0];
}

/** `X is required`, saying which fallbacks were looked at too. */
function requiredMessage(candidates: Found[]): string {
  const [first, ...rest] = candidates;
  if (rest.length === 0) return `${first.field} is required`;

  return `${first.field} is required (${rest.map((found) => found.field).join(', ')} absent too)`;
}

/** The skip reason of a record of another channel (or provider, when no channel is given); null for Sysmon. */
function notSysmonReason(view: SysmonView): string | null {
  const channel = readString(view.channel.value, view.channel.field);
  if (channel !== null) {
    return sameName(channel, SYSMON_CHANNEL) ? null : `channel ${channel} is not ${SYSMON_CHANNEL}`;
  }

  const provider = readString(view.provider.value, view.provider.field);
  if (provider === null || sameName(provider, SYSMON_PROVIDER)) return null;
  return `provider ${provider} is not ${SYSMON_PROVIDER} (no channel given)`;
}

function sameName(text: string, name: string): boolean {
  return text.trim().toLowerCase() === name.toLowerCase();
}

function readEventId(found: Found): number {
  const eventId = parseInteger(found.value, found.field);
  if (eventId === null) throw fieldError(found.field, `${found.field} is required`);

  return eventId;
}

function isUsedEventId(eventId: number): eventId is SysmonEventId {
  return ACTION_TYPES.has(eventId);
}

function unusedEventReason(eventId: number): string {
  const name = UNUSED_EVENT_NAMES.get(eventId);

  return name === undefined ? `Sysmon event ${eventId} is not used` : `Sysmon event ${eventId} (${name}) is not used`;
}

/** The typed fields, required ones first (host, time), then the record id and the fields of the event id. */
function readFields(view: SysmonView, eventId: SysmonEventId): SysmonFields {
  const host = readHost(view.hosts);
  const timestamp = readTime(view.times);
  const recordId = readRecordId(view.recordId);
  const acting = readActingProcess(view, eventId);
  const parent = eventId === SysmonEventId.ProcessCreate ? readProcess(view, PARENT_PROCESS) : NO_PROCESS;
  const target = actsOnTarget(eventId) ? readProcess(view, TARGET_PROCESS) : NO_PROCESS;

  return {
    table: EventTable.SysmonEvents,
    ...host,
    timestamp,
    eventId,
    actionType: ACTION_TYPES.get(eventId)!,
    recordId,
    processGuid: acting.guid,
    processId: acting.pid,
    image: acting.image,
    parentProcessGuid: parent.guid,
    parentProcessId: parent.pid,
    parentImage: parent.image,
    targetProcessGuid: target.guid,
    targetProcessId: target.pid,
    targetImage: target.image,
    ...readNetwork(view, eventId),
    grantedAccess: eventId === SysmonEventId.ProcessAccess ? readDataString(view, 'GrantedAccess') : null,
  };
}

/** `deviceName` is the host name as logged, trimmed; `deviceId` is `host:` + it lower-cased, without a final dot. */
function readHost(hosts: Found[]): Pick<SysmonEvent, 'deviceId' | 'deviceName'> {
  const found = firstPresent(hosts);
  const deviceName = readString(found.value, found.field)?.trim() ?? null;
  if (deviceName === null) throw fieldError(found.field, requiredMessage(hosts));

  const name = hostNameKey(deviceName);
  if (name.length === 0) throw fieldError(found.field, `${found.field} is not a host name`);
  const deviceId = hostDeviceId(deviceName);
  if (deviceId.length > MAX_DEVICE_ID_LENGTH) {
    throw fieldError(
      found.field,
      `${found.field} is longer than ${MAX_DEVICE_ID_LENGTH - HOST_DEVICE_PREFIX.length} characters`,
    );
  }
  return { deviceId, deviceName };
}

/** UtcTime, else the shape's fallback; a bad value is refused, not replaced by the fallback. */
function readTime(times: Found[]): string {
  const found = firstPresent(times);
  const timestamp = parseTimestamp(found.value, found.field);
  if (timestamp === null) throw fieldError(found.field, requiredMessage(times));

  return timestamp;
}

function readRecordId(found: Found): string | null {
  const recordId = parseLong(found.value, found.field);
  if (recordId !== null && recordId.startsWith('-'))
    throw fieldError(found.field, `${found.field} must not be negative`);

  return recordId;
}

function actsOnTarget(eventId: SysmonEventId): boolean {
  return eventId === SysmonEventId.CreateRemoteThread || eventId === SysmonEventId.ProcessAccess;
}

/** The process doing what the event records: the source of a remote thread or an access, else the event's own. */
function readActingProcess(view: SysmonView, eventId: SysmonEventId): ProcessFields {
  return readProcess(view, actsOnTarget(eventId) ? SOURCE_PROCESS : OWN_PROCESS);
}

function readProcess(view: SysmonView, names: ProcessNames): ProcessFields {
  return {
    guid: readGuid(view.data(names.guid)),
    pid: parseFound(view.data(names.pid), parseProcessId),
    image: readImage(view.data(names.image)),
  };
}

/** Lower-cased, braces stripped; all zeros (or nothing) → null. */
function readGuid(found: Found): string | null {
  const text = readString(found.value, found.field);
  if (text === null) return null;

  const guid = text.trim().replace(/^\{/, '').replace(/\}$/, '').toLowerCase();
  return NO_GUID.test(guid) ? null : guid;
}

/** A full path as logged; `-` and `<unknown process>` (also HTML-escaped, any case) → null. */
function readImage(found: Found): string | null {
  const image = readString(found.value, found.field);
  if (image === null || UNKNOWN_IMAGES.has(image.trim().toLowerCase())) return null;

  return image;
}

function parseFound<T>(found: Found, parse: (value: unknown, field: string) => T): T {
  return parse(found.value, found.field);
}

function readDataString(view: SysmonView, name: string): string | null {
  const found = view.data([name]);

  return readString(found.value, found.field);
}

type NetworkFields = Pick<
  SysmonEvent,
  'initiated' | 'protocol' | 'sourceIp' | 'sourcePort' | 'destinationIp' | 'destinationPort'
>;

const NO_NETWORK: NetworkFields = {
  initiated: null,
  protocol: null,
  sourceIp: null,
  sourcePort: null,
  destinationIp: null,
  destinationPort: null,
};

function readNetwork(view: SysmonView, eventId: SysmonEventId): NetworkFields {
  if (eventId !== SysmonEventId.NetworkConnect) return NO_NETWORK;

  return {
    initiated: readInitiated(view.data(['Initiated'])),
    protocol: readDataString(view, 'Protocol'),
    sourceIp: parseFound(view.data(['SourceIp']), readIpAddress),
    sourcePort: parseFound(view.data(['SourcePort']), parsePort),
    destinationIp: parseFound(view.data(['DestinationIp']), readIpAddress),
    destinationPort: parseFound(view.data(['DestinationPort']), parsePort),
  };
}

/** `true` / `false`, as booleans or text in any case; from ECS, `network.direction` egress/outbound or back. */
function readInitiated(found: Found): boolean | null {
  if (found.field === DIRECTION_FIELD) return readDirection(found);
  const value = found.value;
  if (isAbsent(value)) return null;
  if (typeof value === 'boolean') return value;

  const text = typeof value === 'string' ? value.trim().toLowerCase() : '';
  if (text === 'true' || text === 'false') return text === 'true';
  throw fieldError(found.field, `${found.field} must be true or false`);
}

/** ECS direction values other than these four (internal, external, unknown) do not say who connected: null. */
function readDirection(found: Found): boolean | null {
  const direction = readString(found.value, found.field);
  if (direction === null) return null;

  return INITIATED_DIRECTIONS.get(direction.trim().toLowerCase()) ?? null;
}

/**
 * `r:<timestamp>:<record id>` when the record id is known, so the same event sent in two shapes is stored once;
 * else `h:` + sha256 of the typed fields and the whole record (keys sorted), so only a repeat of the same record is
 * a duplicate: Sysmon logs events alike in every typed field apart (process accesses a millisecond apart that differ
 * only in SourceThreadId or CallTrace). A JSON record stored from its text (an integer parsing would round) is
 * hashed by that text, since its parsed value cannot tell two such integers apart.
 */
function sysmonEventKey(fields: SysmonFields, record: Row | string): string {
  if (fields.recordId !== null) return reportEventKey(fields.timestamp, fields.recordId);

  const canonical = JSON.stringify(sortKeysDeep({ fields, record }));
  return `h:${createHash('sha256').update(canonical).digest('hex')}`;
}
