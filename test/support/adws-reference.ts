/**
 * A generator of tricky random events and a plain reference implementation (oracle) of the rule
 * "ADWS connection from process injection target", rules 1-6 of src/detection/README.md. The oracle
 * shares no code with src/detection: nested loops over arrays, BigInt ticks, its own sorting.
 * Used by the unit differential test and, end to end through HTTP, by the integration tests.
 */
import type {
  AlertCandidate,
  AlertExplanation,
  ConnectionSummary,
  InjectorSummary,
} from '../../src/detection/alert.types.js';
import type { DeviceEvent, DeviceNetworkEvent } from '../../src/ingest/event.types.js';
import {
  DEFAULT_EXCLUSIONS,
  GRAPH_MODE_DEFAULTS,
  type AdwsRuleSettings,
  type InjectorExclusion,
} from '../../src/rules/rule.types.js';
import { EventTable, INJECTION_ACTION_TYPES, type EvidenceRef } from '../../src/vocabulary/graph.vocabulary.js';
import { seededRandom, type Random } from './random.js';

/** What the oracle derives: the alert without its node keys and explanation (paths, exclusions, gaps, mode). */
export type ReferenceCandidate = Omit<AlertCandidate, 'nodeKeys' | keyof AlertExplanation>;

/** The part of a derived candidate (or served alert) the oracle can state. */
export function referencePart(candidate: Record<string, unknown>): ReferenceCandidate {
  const { nodeKeys, mode, processKey, path, paths, viaDescendant, evidenceGaps, exclusionsConsidered, ...rest } =
    candidate;
  const { id, status, severity, mitre, revision, createdAt, updatedAt, suppression, ...derived } = rest;
  const { triageStatus, classification, assignedTo, ...detected } = derived;

  return detected as unknown as ReferenceCandidate;
}

export interface GeneratedEvents {
  injections: DeviceEvent[];
  connections: DeviceNetworkEvent[];
}

export interface GeneratorOptions {
  /** Events before redeliveries (about half injections). */
  events?: number;
  /** The window the boundary cases are placed around. */
  timeframeMinutes?: number;
}

// ---------------------------------------------------------------------------------------------
// Generator
// ---------------------------------------------------------------------------------------------

const TICKS_PER_MS = 10_000n;
const BASE_TICKS = BigInt(Date.parse('2023-10-18T12:00:00Z')) * TICKS_PER_MS;

const DEVICES: Record<string, (string | null)[]> = {
  'dev-a': ['dc01.corp.example', 'DC01', null],
  'dev-b': ['ws02.corp.example'],
  'dev-c': ['srv03.sub.corp.example', 'srv03'],
};
const TARGET_NAMES = ['notepad.exe', 'NOTEPAD.EXE', 'Notepad.Exe', 'powershell.exe', 'PowerShell.exe', '', null];
const INJECTOR_NAMES = [
  'csrss.exe',
  'CSRSS.EXE',
  'vmtoolsd.exe',
  'VMToolsD.exe',
  'miiserver.exe',
  'rundll32.exe',
  'notvmtoolsd.exe',
  'notepad.exe',
  '',
  null,
];
const FOLDER_PATHS = [
  'c:\\windows\\system32',
  'C:\\Windows\\System32',
  'c:\\windows\\system32\\',
  'c:\\windows\\system32\\csrss.exe',
  'C:\\WINDOWS\\system32\\CSRSS.exe',
  'c:\\program files\\vmware\\vmware tools',
  'C:\\Program Files\\VMware\\VMware Tools\\plugins',
  'c:\\program files\\vmware\\vmware toolsX',
  'C:\\Program Files\\Microsoft Azure AD Sync\\Bin',
  'c:\\program files\\microsoft azure ad sync',
  'c:\\temp',
  null,
];
const NEAR_MISS_ACTIONS = ['CreateRemoteThreadApiCallX', 'OpenProcessApiCall', 'ProcessCreated', ''];
const CONNECTION_ACTIONS = [
  'ConnectionSuccess',
  'ConnectionSuccess',
  'ConnectionSuccess',
  'ConnectionFailed',
  'connectionsuccess',
  'ConnectionAttempt',
];
const PORTS = [9389, 9389, 9389, 389, 443, null];
const REMOTE_IPS = ['10.0.0.5', '10.0.0.6', 'fe80::1', null];

/** Events over three devices and a handful of pids and names, with every tricky case at a high rate. */
export function generateAdwsEvents(seed: number, options: GeneratorOptions = {}): GeneratedEvents {
  const random = seededRandom(seed);
  const count = options.events ?? 2000;
  const windowTicks = BigInt(options.timeframeMinutes ?? 120) * 60_000n * TICKS_PER_MS;
  const hour = 3600_000n * TICKS_PER_MS;
  const anchors = [0n, hour / 6n, windowTicks, windowTicks + 1n, 2n * windowTicks, 6n * hour, 12n * hour];
  // Few pids make big alerts with many injectors; many pids make small ones where one pair decides.
  const pids = [...Array.from({ length: 2 + random.int(40) }, (_, i) => 100 * (i + 1)), null];
  const out: GeneratedEvents = { injections: [], connections: [] };

  for (let n = 0; n < count; n++) {
    const timestamp = formatTicks(BASE_TICKS + random.pick(anchors) + jitter(random, windowTicks));
    const common = commonFields(random, `r:${timestamp}:${seed}-${n}`, timestamp);
    if (random.chance(0.5)) out.injections.push(randomInjection(random, common, pids));
    else out.connections.push(randomConnection(random, common, pids));
    if (random.chance(0.05)) redeliver(random, out);
  }

  return out;
}

function jitter(random: Random, windowTicks: bigint): bigint {
  const sign = random.chance(0.5) ? 1n : -1n;
  const choices = [0n, windowTicks, windowTicks + 1n, windowTicks - 1n, windowTicks + TICKS_PER_MS, 1n];
  if (random.chance(0.6)) return sign * random.pick(choices);

  return sign * BigInt(random.int(3 * 3600 * 1000)) * TICKS_PER_MS + BigInt(random.int(10_000));
}

function formatTicks(ticks: bigint): string {
  const seconds = ticks / 10_000_000n;
  const fraction = (ticks % 10_000_000n).toString().padStart(7, '0');

  return `${new Date(Number(seconds) * 1000).toISOString().slice(0, 19)}.${fraction}Z`;
}

type CommonFields = ReturnType<typeof commonFields>;

function commonFields(random: Random, eventKey: string, timestamp: string) {
  const deviceId = random.pick(Object.keys(DEVICES));

  return {
    eventKey,
    deviceId,
    deviceName: random.pick(DEVICES[deviceId]!),
    timestamp,
    reportId: eventKey.slice(eventKey.lastIndexOf(':') + 1),
    initiatingProcessCreationTime: null,
    initiatingProcessParentId: null,
    initiatingProcessUniqueId: null,
    raw: { eventKey },
  };
}

function randomInjection(random: Random, common: CommonFields, pids: (number | null)[]): DeviceEvent {
  return {
    ...common,
    table: EventTable.DeviceEvents,
    actionType: random.chance(0.8)
      ? randomCase(random, random.pick(INJECTION_ACTION_TYPES))
      : random.pick(NEAR_MISS_ACTIONS),
    initiatingProcessId: random.pick(pids),
    initiatingProcessFileName: random.pick(INJECTOR_NAMES),
    initiatingProcessFolderPath: random.pick(FOLDER_PATHS),
    fileName: random.pick(TARGET_NAMES),
    folderPath: random.pick(FOLDER_PATHS),
    processId: random.pick(pids),
    processCreationTime: null,
    processUniqueId: null,
  };
}

function randomConnection(random: Random, common: CommonFields, pids: (number | null)[]): DeviceNetworkEvent {
  return {
    ...common,
    table: EventTable.DeviceNetworkEvents,
    actionType: random.pick(CONNECTION_ACTIONS),
    initiatingProcessId: random.pick(pids),
    initiatingProcessFileName: random.pick(TARGET_NAMES),
    initiatingProcessFolderPath: random.pick(FOLDER_PATHS),
    remoteIp: random.pick(REMOTE_IPS),
    remotePort: random.pick(PORTS),
    remoteUrl: null,
    localIp: random.pick(['10.0.0.20', '10.0.0.21', null]),
    localPort: random.pick([50123, 50124, null]),
    protocol: 'Tcp',
  };
}

function randomCase(random: Random, value: string): string {
  return random.pick([value, value.toLowerCase(), value.toUpperCase()]);
}

/** Pushes an exact copy (same event key) of an earlier event. */
function redeliver(random: Random, out: GeneratedEvents): void {
  if (random.chance(0.5) && out.injections.length > 0) out.injections.push({ ...random.pick(out.injections) });
  else if (out.connections.length > 0) out.connections.push({ ...random.pick(out.connections) });
}

/**
 * Rule settings that vary with the seed: the defaults, a 1-minute window with LDAP as a second port,
 * or extra exclusions (a name only, a folder prefix only).
 */
export function settingsForSeed(seed: number): AdwsRuleSettings {
  const exclusions = DEFAULT_EXCLUSIONS.map((e) => ({ ...e }));
  const reference = { ...GRAPH_MODE_DEFAULTS, mode: 'reference' as const };
  if (seed % 3 === 1) return { ...reference, timeframeMinutes: 1, adwsPorts: [9389, 389], exclusions };
  if (seed % 3 === 2) {
    const none = { targetFileName: null, deviceId: null };
    const byName = { description: 'by name', injectorFileName: 'RUNDLL32.exe', injectorFolderPath: null, ...none };
    const byFolder = { description: 'by folder', injectorFileName: null, injectorFolderPath: 'C:\\Temp', ...none };
    exclusions.push({ ...byName, folderPathMatch: 'equals' }, { ...byFolder, folderPathMatch: 'startsWith' });
  }

  return { ...reference, timeframeMinutes: 120, adwsPorts: [9389], exclusions };
}

// ---------------------------------------------------------------------------------------------
// Oracle
// ---------------------------------------------------------------------------------------------

interface MatchGroup {
  deviceId: string;
  deviceName: string;
  processId: number;
  fileName: string;
  injections: Set<DeviceEvent>;
  connections: Set<DeviceNetworkEvent>;
}

/** Rules 1-6 by brute force: every (injection, connection) pair, grouped per device, DeviceName and target. */
export function referenceAlertCandidates(events: GeneratedEvents, settings: AdwsRuleSettings): ReferenceCandidate[] {
  const injections = firstOfEachKey(events.injections).filter((e) => isInjectionEvidence(e, settings.exclusions));
  const connections = firstOfEachKey(events.connections).filter((e) => isAdwsConnection(e, settings.adwsPorts));
  const windowTicks = BigInt(settings.timeframeMinutes) * 60n * 10_000_000n;
  const groups = new Map<string, MatchGroup>();

  for (const injection of injections) {
    for (const connection of connections) {
      if (!isSameProcess(injection, connection)) continue;
      const delta = ticksOf(injection.timestamp) - ticksOf(connection.timestamp);
      if (delta > windowTicks || -delta > windowTicks) continue;
      const group = groupFor(groups, injection, connection);
      group.injections.add(injection);
      group.connections.add(connection);
    }
  }

  return [...groups.values()].map(toCandidate).sort(byCandidateOrder);
}

function firstOfEachKey<E extends DeviceEvent | DeviceNetworkEvent>(events: E[]): E[] {
  const seen = new Set<string>();
  const out: E[] = [];
  for (const event of events) {
    const key = `${event.deviceId}|${event.eventKey}`;
    if (!seen.has(key)) out.push(event);
    seen.add(key);
  }
  return out;
}

function canonicalAction(actionType: string): string | null {
  return INJECTION_ACTION_TYPES.find((t) => t.toLowerCase() === actionType.toLowerCase()) ?? null;
}

function isInjectionEvidence(event: DeviceEvent, exclusions: InjectorExclusion[]): boolean {
  if (canonicalAction(event.actionType) === null) return false;
  if (event.fileName === null || event.fileName === '') return false;
  if (event.processId === null || event.initiatingProcessId === null) return false;
  return !exclusions.some((exclusion) => excludes(exclusion, event));
}

function excludes(exclusion: InjectorExclusion, event: DeviceEvent): boolean {
  if (exclusion.injectorFileName === null && exclusion.injectorFolderPath === null) return false;
  if (exclusion.injectorFileName !== null) {
    const name = event.initiatingProcessFileName;
    if (name === null || name.toLowerCase() !== exclusion.injectorFileName.toLowerCase()) return false;
  }
  if (exclusion.injectorFolderPath !== null) {
    const folder = event.initiatingProcessFolderPath;
    if (folder === null) return false;
    const wanted = exclusion.injectorFolderPath.toLowerCase();
    const actual = folder.toLowerCase();
    if (exclusion.folderPathMatch === 'equals' && actual !== wanted) return false;
    if (exclusion.folderPathMatch === 'startsWith' && actual.slice(0, wanted.length) !== wanted) return false;
  }
  return true;
}

function isAdwsConnection(event: DeviceNetworkEvent, ports: number[]): boolean {
  return event.actionType === 'ConnectionSuccess' && event.remotePort !== null && ports.includes(event.remotePort);
}

function isSameProcess(injection: DeviceEvent, connection: DeviceNetworkEvent): boolean {
  if (injection.deviceId !== connection.deviceId) return false;
  if (connection.initiatingProcessId === null || connection.initiatingProcessId !== injection.processId) return false;
  const name = connection.initiatingProcessFileName;
  return name !== null && name !== '' && name.toLowerCase() === injection.fileName!.toLowerCase();
}

function ticksOf(timestamp: string): bigint {
  const [whole, fraction = ''] = timestamp.slice(0, -1).split('.');
  return BigInt(Date.parse(`${whole}Z`)) * 10_000n + BigInt(fraction.padEnd(7, '0').slice(0, 7));
}

function groupFor(groups: Map<string, MatchGroup>, injection: DeviceEvent, connection: DeviceNetworkEvent): MatchGroup {
  const deviceName = connection.deviceName ?? '';
  const fileName = injection.fileName!.toLowerCase();
  const key = JSON.stringify([connection.deviceId, deviceName, injection.processId, fileName]);
  let group = groups.get(key);
  if (!group) {
    const { deviceId } = connection;
    const processId = injection.processId!;
    group = { deviceId, deviceName, processId, fileName, injections: new Set(), connections: new Set() };
    groups.set(key, group);
  }
  return group;
}

function toCandidate(group: MatchGroup): ReferenceCandidate {
  const injections = [...group.injections].sort(byTimeThenKey);
  const connections = [...group.connections].sort(byTimeThenKey);
  const dot = group.deviceName.indexOf('.');
  return {
    ruleId: 'adws-connection-from-process-injection-target',
    deviceId: group.deviceId,
    deviceName: group.deviceName,
    hostName: dot < 0 ? group.deviceName : group.deviceName.slice(0, dot),
    dnsDomain: dot < 0 ? '' : group.deviceName.slice(dot + 1),
    timestamp: connections[0]!.timestamp,
    processId: group.processId,
    fileName: group.fileName,
    injectionMethods: distinctSorted(injections.map((e) => canonicalAction(e.actionType)!)),
    injectors: injectorsOf(injections),
    connections: connections.map(connectionSummary).sort(byConnectionOrder),
    evidence: [...injections, ...connections].map(refOf).sort(byEvidenceOrder),
  };
}

function injectorsOf(injections: DeviceEvent[]): InjectorSummary[] {
  const byInjector = new Map<string, DeviceEvent[]>();
  for (const event of injections) {
    const key = JSON.stringify([event.initiatingProcessId, (event.initiatingProcessFileName ?? '').toLowerCase()]);
    byInjector.set(key, [...(byInjector.get(key) ?? []), event]);
  }
  const summaries = [...byInjector].map(([key, events]) => ({
    key,
    summary: {
      processId: events[0]!.initiatingProcessId!,
      fileName: events[0]!.initiatingProcessFileName ?? '',
      folderPath: events.find((e) => e.initiatingProcessFolderPath !== null)?.initiatingProcessFolderPath ?? null,
      actionTypes: distinctSorted(events.map((e) => canonicalAction(e.actionType)!)),
      firstSeen: events[0]!.timestamp,
      lastSeen: events[events.length - 1]!.timestamp,
    },
  }));
  summaries.sort(
    (a, b) =>
      a.summary.processId - b.summary.processId || cmp(a.summary.fileName, b.summary.fileName) || cmp(a.key, b.key),
  );
  return summaries.map((s) => s.summary);
}

function connectionSummary(event: DeviceNetworkEvent): ConnectionSummary {
  return {
    timestamp: event.timestamp,
    remoteIp: event.remoteIp ?? '',
    remotePort: event.remotePort!,
    localIp: event.localIp,
    localPort: event.localPort,
  };
}

function refOf(event: DeviceEvent | DeviceNetworkEvent): EvidenceRef {
  return { table: event.table, deviceId: event.deviceId, eventKey: event.eventKey };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function distinctSorted(values: string[]): string[] {
  return [...new Set(values)].sort(cmp);
}

function byTimeThenKey(a: { timestamp: string; eventKey: string }, b: { timestamp: string; eventKey: string }): number {
  const delta = ticksOf(a.timestamp) - ticksOf(b.timestamp);
  return delta < 0n ? -1 : delta > 0n ? 1 : cmp(a.eventKey, b.eventKey);
}

function byConnectionOrder(a: ConnectionSummary, b: ConnectionSummary): number {
  return (
    cmp(a.timestamp, b.timestamp) ||
    cmp(a.remoteIp, b.remoteIp) ||
    a.remotePort - b.remotePort ||
    cmp(a.localIp ?? '', b.localIp ?? '') ||
    (a.localPort ?? -1) - (b.localPort ?? -1)
  );
}

function byEvidenceOrder(a: EvidenceRef, b: EvidenceRef): number {
  return cmp(a.table, b.table) || cmp(a.deviceId, b.deviceId) || cmp(a.eventKey, b.eventKey);
}

function byCandidateOrder(a: ReferenceCandidate, b: ReferenceCandidate): number {
  return (
    cmp(a.deviceId, b.deviceId) ||
    cmp(a.deviceName, b.deviceName) ||
    a.processId - b.processId ||
    cmp(a.fileName, b.fileName)
  );
}
