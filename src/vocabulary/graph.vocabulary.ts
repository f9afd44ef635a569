/**
 * The one vocabulary of the entity graph: node kinds, edge kinds, their attribute shapes and the
 * keys that give a node its identity. Nothing else in the code spells a kind as a string literal.
 */

export const NodeKind = {
  Process: 'process',
  AdwsEndpoint: 'adwsEndpoint',
} as const;
export type NodeKind = (typeof NodeKind)[keyof typeof NodeKind];

export const EdgeKind = {
  Injected: 'injected',
  Connected: 'connected',
  /** Parent → child, from a Sysmon process-create event. */
  Spawned: 'spawned',
  /** Source → target of a Sysmon process-access event; drawn, never an injection in the rule. */
  Accessed: 'accessed',
} as const;
export type EdgeKind = (typeof EdgeKind)[keyof typeof EdgeKind];

/** Longest DeviceId the service stores or filters on (it is part of index keys). */
export const MAX_DEVICE_ID_LENGTH = 256;

/** Source table of a stored event; also the prefix of an evidence reference. */
export const EventTable = {
  DeviceEvents: 'DeviceEvents',
  DeviceNetworkEvents: 'DeviceNetworkEvents',
  SysmonEvents: 'SysmonEvents',
} as const;
export type EventTable = (typeof EventTable)[keyof typeof EventTable];

/** A pointer to one stored event: enough to fetch the raw row again. */
export interface EvidenceRef {
  table: EventTable;
  deviceId: string;
  eventKey: string;
}

export interface ProcessNodeAttributes {
  kind: typeof NodeKind.Process;
  deviceId: string;
  processId: number;
  /**
   * Lower-cased image name: half of the reference identity. For a process known by its Sysmon ProcessGuid,
   * the name its events resolve to (a target logged as `<unknown process>` takes the name of its GUID's
   * other events); empty when no event names it.
   */
  fileName: string;
  /** Sysmon ProcessGuid (lower case, no braces) when the process is known by one: then it is the identity. */
  processGuid: string | null;
  /** Full image path, where an event gives one (Sysmon always does). */
  imagePath: string | null;
  /** When the process was created (Sysmon event 1), if that event is stored. */
  creationTime: string | null;
  /** Spellings and folder paths as observed, first seen first. */
  observedNames: string[];
  folderPaths: string[];
  firstSeen: string;
  lastSeen: string;
}

export interface AdwsEndpointNodeAttributes {
  kind: typeof NodeKind.AdwsEndpoint;
  deviceId: string;
  remoteIp: string;
  remotePort: number;
  firstSeen: string;
  lastSeen: string;
}

export type NodeAttributes = ProcessNodeAttributes | AdwsEndpointNodeAttributes;

/** One injection event behind an `injected` edge. */
export interface InjectionOccurrence {
  evidence: EvidenceRef;
  timestamp: string;
  /** Canonical spelling (see INJECTION_ACTION_TYPES). */
  actionType: string;
  injectorFileName: string;
  injectorFolderPath: string | null;
  deviceName: string | null;
}

/** One connection event behind a `connected` edge. */
export interface ConnectionOccurrence {
  evidence: EvidenceRef;
  timestamp: string;
  remoteIp: string;
  remotePort: number;
  localIp: string | null;
  localPort: number | null;
  deviceName: string | null;
}

export interface InjectedEdgeAttributes {
  kind: typeof EdgeKind.Injected;
  actionTypes: string[];
  firstSeen: string;
  lastSeen: string;
  count: number;
  occurrences: InjectionOccurrence[];
}

export interface ConnectedEdgeAttributes {
  kind: typeof EdgeKind.Connected;
  firstSeen: string;
  lastSeen: string;
  count: number;
  occurrences: ConnectionOccurrence[];
}

/** One Sysmon process-create behind a `spawned` edge. */
export interface SpawnOccurrence {
  evidence: EvidenceRef;
  timestamp: string;
  deviceName: string | null;
}

/** One Sysmon process-access behind an `accessed` edge. */
export interface AccessOccurrence {
  evidence: EvidenceRef;
  timestamp: string;
  /** The access mask as logged, e.g. `0x1410`. */
  grantedAccess: string | null;
  deviceName: string | null;
}

export interface SpawnedEdgeAttributes {
  kind: typeof EdgeKind.Spawned;
  firstSeen: string;
  lastSeen: string;
  count: number;
  occurrences: SpawnOccurrence[];
}

export interface AccessedEdgeAttributes {
  kind: typeof EdgeKind.Accessed;
  grantedAccess: string[];
  firstSeen: string;
  lastSeen: string;
  count: number;
  occurrences: AccessOccurrence[];
}

export type EdgeAttributes =
  InjectedEdgeAttributes | ConnectedEdgeAttributes | SpawnedEdgeAttributes | AccessedEdgeAttributes;

export interface GraphAttributes {
  deviceId: string;
  /** Set on an alert's graph: the alert it explains. Served graphs add bounds and counts (graph.attributes.ts). */
  alertId?: string;
}

/** The injection action types of the reference rule, in their canonical spelling. */
export const INJECTION_ACTION_TYPES = [
  'CreateRemoteThreadApiCall',
  'MemoryRemoteProtect',
  'NtAllocateVirtualMemoryApiCall',
  'NtAllocateVirtualMemoryRemoteApiCall',
  'NtMapViewOfSectionRemoteApiCall',
  'NtProtectVirtualMemoryApiCall',
  'SetThreadContextRemoteApiCall',
  'QueueUserApcRemoteApiCall',
] as const;

const canonicalByLower = new Map<string, string>(INJECTION_ACTION_TYPES.map((t) => [t.toLowerCase(), t]));

/** Canonical spelling of an injection action type compared without case, or null when it is none. */
export function canonicalInjectionActionType(actionType: string | null | undefined): string | null {
  if (!actionType) return null;

  return canonicalByLower.get(actionType.toLowerCase()) ?? null;
}

export const ADWS_CONNECTION_ACTION_TYPE = 'ConnectionSuccess';

/** Reference identity of a process: device, pid and lower-cased image name. */
export function processNodeKey(deviceId: string, processId: number, fileName: string): string {
  return `process:${deviceId}:${processId}:${fileName.toLowerCase()}`;
}

/** Identity of a process known by its Sysmon ProcessGuid (one process for its whole life). */
export function processGuidNodeKey(deviceId: string, processGuid: string): string {
  return `process:${deviceId}:guid:${processGuid}`;
}

/** Identity of a process known by Defender's ProcessUniqueId / InitiatingProcessUniqueId (graph mode). */
export function processUniqueIdNodeKey(deviceId: string, uniqueId: string): string {
  return `process:${deviceId}:uid:${uniqueId}`;
}

/** Identity of a process known by its pid and creation time (graph mode): a recycled pid is another process. */
export function processLifetimeNodeKey(deviceId: string, processId: number, creationTime: string): string {
  return `process:${deviceId}:${processId}@${creationTime}`;
}

/** The method an `injected` edge records for a Sysmon CreateRemoteThread event (event 8). */
export const SYSMON_INJECTION_METHOD = 'CreateRemoteThreadApiCall';

export function adwsEndpointNodeKey(deviceId: string, remoteIp: string, remotePort: number): string {
  return `adws:${deviceId}:${remoteIp}:${remotePort}`;
}

export function edgeKey(kind: EdgeKind, source: string, target: string): string {
  return `${kind}:${source}->${target}`;
}

/** Prefix of the device id of a host known only by name (Sysmon): `host:` + hostNameKey. */
export const HOST_DEVICE_PREFIX = 'host:';

/** A host name compared as DNS compares it: trimmed, lower-cased, without a trailing dot. */
export function hostNameKey(hostName: string): string {
  return hostName.trim().toLowerCase().replace(/\.$/, '');
}

/** The one stable device id of a host known by name: the same for every spelling and source of the name. */
export function hostDeviceId(hostName: string): string {
  return `${HOST_DEVICE_PREFIX}${hostNameKey(hostName)}`;
}

export function isHostDeviceId(deviceId: string): boolean {
  return deviceId.startsWith(HOST_DEVICE_PREFIX);
}

/** A device id as a caller may type it: a host id in any case (`host:WS5.Corp.`) becomes its stable form. */
export function canonicalDeviceId(deviceId: string): string {
  if (!deviceId.toLowerCase().startsWith(HOST_DEVICE_PREFIX)) return deviceId;

  return hostDeviceId(deviceId.slice(HOST_DEVICE_PREFIX.length));
}
