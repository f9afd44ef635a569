/**
 * fast-check generators for graph-mode order properties: small event sets on one device, described once as a
 * scenario (processes, injection chains, ADWS connections, noise, redeliveries) and rendered as Defender rows,
 * Sysmon events or canonical events. Rendering is pure, so one scenario gives the same events for every copy
 * except for the copy's device token (in DeviceId, DeviceName and the Sysmon host).
 */
import fc from 'fast-check';

import type { DeviceEvent, DeviceNetworkEvent } from '../../src/ingest/event.types.js';
import { INJECTION_ACTION_TYPES } from '../../src/vocabulary/graph.vocabulary.js';
import { deviceEvent, networkEvent } from './event.factory.js';
import { connectionRow, injectionRow, type MdeRow } from './mde-rows.js';
import { networkConnect, processCreate, remoteThread, type FlatEvent, type SysmonProcess } from './sysmon-events.js';

/** Scenario times are whole seconds after 08:00 (ties are frequent on purpose). */
const BASE_MS = Date.UTC(2024, 2, 1, 8, 0, 0);
const THREE_HOURS = 3 * 3600;
/** Pids repeat across processes: the same pid with another creation time is a recycled pid. */
const PID_POOL = [1111, 2222, 3333, 4444] as const;
const CREATION_POOL = [-1800, 0, 1800, 3600, 5400] as const;
const NAMES = ['notepad.exe', 'svchost.exe', 'rundll32.exe', 'powershell.exe', 'cmd.exe', 'csrss.exe', 'vmtoolsd.exe'];
/** A pid no generated process has: a parent the graph cannot identify. */
const STRANGER_PID = 9999;
/** Sysmon stamps a process create a little after Defender's creation time (the two join within a second). */
const SYSMON_CLOCK_LAG = 0.25;
const EXPLORER: SysmonProcess = {
  guid: '{5e1f0000-0000-0000-0000-000000000500}',
  pid: 500,
  image: 'C:\\Windows\\explorer.exe',
};

/** One process lifetime: a pid, an image name and a creation time (seconds after the base). */
export interface ProcessSpec {
  pid: number;
  name: string;
  created: number;
}

/** How one row names a process: which of its identifying columns it carries. */
export interface RefSpec {
  /** Index into the scenario's processes (taken modulo their count). */
  process: number;
  creation: boolean;
  uniqueId: boolean;
  capitalised: boolean;
}

export interface InjectionSpec {
  injector: RefSpec;
  target: RefSpec;
  at: number;
  actionType: string;
  /** 0: the image's directory, 1: the full image path, 2: a user folder (never excluded). */
  folder: number;
}

export interface ConnectionSpec {
  connector: RefSpec;
  /** A child of an injected process connects: this process instead of the one `connector` points at. */
  child?: ProcessSpec;
  at: number;
  remotePort: number;
  actionType: string;
  remoteIp: string;
  /** InitiatingProcessParentId: a process index, the stranger pid (-1) or none (null). */
  parent: number | null;
}

interface Hop {
  process: number;
  gap: number;
  actionType: string;
  folder: number;
  asInjector: Omit<RefSpec, 'process'>;
  asTarget: Omit<RefSpec, 'process'>;
}

/** A chain of 1-3 injections and a connection from its last target or from a child it spawned. */
export interface StorySpec {
  start: number;
  hops: Hop[];
  delta: number;
  viaChild: boolean;
  /** The child: a pid from the pool, created `childDelay` seconds after the last injection. */
  child: { pid: number; name: string; childDelay: number };
  remotePort: number;
  actionType: string;
  remoteIp: string;
  connector: Omit<RefSpec, 'process'>;
  /** Told by Sysmon (events 1, 3, 8 on the copy's host) instead of Defender. */
  sysmon: boolean;
  /** Sysmon: the thread's target logged as `<unknown process>`. */
  unknownTarget: boolean;
}

export interface Scenario {
  processes: ProcessSpec[];
  stories: StorySpec[];
  injections: InjectionSpec[];
  connections: ConnectionSpec[];
  /** Events posted again (indexes modulo the event count): redeliveries. */
  redeliveries: number[];
}

/** The events of one scenario on one copy, each with the route table it goes to. */
export type RenderedEvent =
  { table: 'DeviceEvents' | 'DeviceNetworkEvents'; row: MdeRow } | { table: 'sysmon'; row: FlatEvent };

/** Where one copy's events live: `<token>` in the DeviceId, `<token>.contoso.local` as DeviceName and host. */
export interface CopyNames {
  deviceId: string;
  deviceName: string;
  hostId: string;
}

/** The names of the copy with this token (lower case, letters that never appear in hex or paths). */
export function copyNames(token: string): CopyNames {
  const deviceName = `${token}.contoso.local`;

  return { deviceId: `${token}-dev`, deviceName, hostId: `host:${deviceName}` };
}

/** Canonical event time (seven fractional digits) of a scenario second. */
export function eventTime(seconds: number): string {
  return `${new Date(BASE_MS + seconds * 1000).toISOString().slice(0, 19)}.0000000Z`;
}

function sysmonTime(seconds: number): string {
  return new Date(BASE_MS + seconds * 1000).toISOString().slice(0, 23).replace('T', ' ');
}

/** True with probability `percent` / 100, shrinking towards false. */
function chance(percent: number): fc.Arbitrary<boolean> {
  return fc.integer({ min: 0, max: 99 }).map((n) => n >= 100 - percent);
}

/** Which identifying columns a row carries for a process: usually its creation time, sometimes its unique id. */
const flagsArb = fc.record({ creation: chance(85), uniqueId: chance(30), capitalised: chance(20) });
const refArb: fc.Arbitrary<RefSpec> = fc.tuple(fc.nat(15), flagsArb).map(([process, flags]) => ({ process, ...flags }));
/** The eight injection action types, a lower-case spelling of one, and a near miss that is no injection. */
const actionTypeArb = fc.oneof(
  { weight: 12, arbitrary: fc.constantFrom(...INJECTION_ACTION_TYPES) },
  { weight: 1, arbitrary: fc.constantFrom('createremotethreadapicall', 'CreateRemoteThread') },
);
const portArb = fc.oneof({ weight: 6, arbitrary: fc.constant(9389) }, { weight: 1, arbitrary: fc.constant(8080) });
const connectionActionArb = fc.oneof(
  { weight: 6, arbitrary: fc.constant('ConnectionSuccess') },
  { weight: 1, arbitrary: fc.constant('ConnectionFailed') },
);
const remoteIpArb = fc.constantFrom('10.0.0.10', '10.0.0.10', '10.0.0.11');
/** Connection time after the last injection: seconds early (inside the skew), minutes early, inside, near the span. */
const deltaArb = fc.oneof(
  { weight: 2, arbitrary: fc.integer({ min: -25, max: -1 }) },
  { weight: 1, arbitrary: fc.integer({ min: -900, max: -60 }) },
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 900 }) },
  { weight: 1, arbitrary: fc.integer({ min: 6900, max: 7500 }) },
);

const processArb = fc.record({
  pid: fc.constantFrom(...PID_POOL),
  name: fc.constantFrom(...NAMES),
  created: fc.constantFrom(...CREATION_POOL),
});

const hopArb = fc.record({
  process: fc.nat(15),
  gap: fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 0, max: 900 }) }, fc.integer({ min: -40, max: -1 })),
  actionType: actionTypeArb,
  folder: fc.nat(2),
  asInjector: flagsArb,
  asTarget: flagsArb,
});

const storyArb: fc.Arbitrary<StorySpec> = fc.record({
  start: fc.integer({ min: 0, max: THREE_HOURS }),
  hops: fc.array(hopArb, { minLength: 2, maxLength: 4 }),
  delta: deltaArb,
  viaChild: chance(40),
  child: fc.record({
    pid: fc.constantFrom(...PID_POOL),
    name: fc.constantFrom(...NAMES),
    childDelay: fc.integer({ min: -30, max: 600 }),
  }),
  remotePort: portArb,
  actionType: connectionActionArb,
  remoteIp: remoteIpArb,
  connector: flagsArb,
  sysmon: chance(20),
  unknownTarget: chance(30),
});

const injectionArb: fc.Arbitrary<InjectionSpec> = fc.record({
  injector: refArb,
  target: refArb,
  at: fc.integer({ min: 0, max: THREE_HOURS }),
  actionType: actionTypeArb,
  folder: fc.nat(2),
});

const connectionArb: fc.Arbitrary<ConnectionSpec> = fc.record({
  connector: refArb,
  at: fc.integer({ min: 0, max: THREE_HOURS }),
  remotePort: portArb,
  actionType: connectionActionArb,
  remoteIp: remoteIpArb,
  parent: fc.option(fc.integer({ min: -1, max: 15 }), { freq: 2 }),
});

/** Small event sets on one device: 1-6 processes (pids repeat), 1-3 chains, noise and redeliveries. */
export function scenarioArbitrary(): fc.Arbitrary<Scenario> {
  return fc.record({
    processes: fc.uniqueArray(processArb, { minLength: 1, maxLength: 6, selector: (p) => `${p.pid}@${p.created}` }),
    stories: fc.array(storyArb, { minLength: 1, maxLength: 3 }),
    injections: fc.array(injectionArb, { maxLength: 4 }),
    connections: fc.array(connectionArb, { maxLength: 3 }),
    redeliveries: fc.array(fc.nat(40), { maxLength: 4 }),
  });
}

/** Every Defender injection and connection of a scenario (stories flattened, Sysmon stories left out). */
export function defenderSpecs(scenario: Scenario): { injections: InjectionSpec[]; connections: ConnectionSpec[] } {
  const stories = scenario.stories.filter((s) => !s.sysmon);
  const injections = [...stories.flatMap(storyInjections), ...scenario.injections];
  const connections = [...stories.map((s) => storyConnection(s)), ...scenario.connections];

  return { injections, connections };
}

function storyInjections(story: StorySpec): InjectionSpec[] {
  let at = story.start;

  return story.hops.slice(1).map((hop, i) => {
    const injector = story.hops[i]!;
    at += hop.gap;
    return {
      injector: { process: injector.process, ...injector.asInjector },
      target: { process: hop.process, ...hop.asTarget },
      at,
      actionType: hop.actionType,
      folder: injector.folder,
    };
  });
}

function storyConnection(story: StorySpec): ConnectionSpec {
  const last = story.hops[story.hops.length - 1]!.process;
  const { pid, name, childDelay } = story.child;
  const child = story.viaChild ? { child: { pid, name, created: storyEnd(story) + childDelay } } : {};

  return {
    connector: { process: last, ...story.connector },
    ...child,
    at: storyEnd(story) + story.delta,
    remotePort: story.remotePort,
    actionType: story.actionType,
    remoteIp: story.remoteIp,
    parent: story.viaChild ? last : null,
  };
}

function storyEnd(story: StorySpec): number {
  return story.start + story.hops.slice(1).reduce((sum, hop) => sum + hop.gap, 0);
}

/**
 * The scenario as the rows and Sysmon events a pipeline would post for one copy, redeliveries appended. ReportIds
 * and RecordNumbers follow the event's position, so both copies of a scenario get the same event keys.
 */
export function renderEvents(scenario: Scenario, names: CopyNames): RenderedEvent[] {
  const { injections, connections } = defenderSpecs(scenario);
  const events: RenderedEvent[] = [
    ...injections.map((spec, i) => ({
      table: 'DeviceEvents' as const,
      row: injectionRowOf(scenario, spec, names, 1000 + i),
    })),
    ...connections.map((spec, i) => ({
      table: 'DeviceNetworkEvents' as const,
      row: connectionRowOf(scenario, spec, names, 2000 + i),
    })),
    ...sysmonEvents(scenario, names),
  ];

  return [...events, ...scenario.redeliveries.map((n) => events[n % events.length]!)];
}

function processOf(scenario: Scenario, index: number): ProcessSpec {
  return scenario.processes[index % scenario.processes.length]!;
}

function spelled(name: string, capitalised: boolean): string {
  return capitalised ? name[0]!.toUpperCase() + name.slice(1) : name;
}

/** Folder path of an injector: its directory, its full image path, or a user folder. */
function folderOf(name: string, style: number): string {
  const directory = name === 'vmtoolsd.exe' ? 'c:\\program files\\vmware\\vmware tools' : 'c:\\windows\\system32';
  if (style === 0) return directory;

  return style === 1 ? `${directory}\\${name}` : `c:\\users\\public\\${name}`;
}

/** Defender's unique id of a process, fixed by its pid and creation time (which tell generated processes apart). */
function uniqueIdOf(process: ProcessSpec): number {
  return process.pid * 1_000_000 + process.created + 100_000;
}

function injectionRowOf(scenario: Scenario, spec: InjectionSpec, names: CopyNames, reportId: number): MdeRow {
  const injector = processOf(scenario, spec.injector.process);
  const target = processOf(scenario, spec.target.process);

  return injectionRow({
    Timestamp: eventTime(spec.at),
    DeviceId: names.deviceId,
    DeviceName: names.deviceName,
    ActionType: spec.actionType,
    FileName: spelled(target.name, spec.target.capitalised),
    FolderPath: `c:\\windows\\system32\\${target.name}`,
    ProcessId: target.pid,
    ProcessCreationTime: spec.target.creation ? eventTime(target.created) : null,
    ProcessUniqueId: spec.target.uniqueId ? uniqueIdOf(target) : null,
    InitiatingProcessId: injector.pid,
    InitiatingProcessFileName: spelled(injector.name, spec.injector.capitalised),
    InitiatingProcessFolderPath: folderOf(injector.name, spec.folder),
    InitiatingProcessCreationTime: spec.injector.creation ? eventTime(injector.created) : null,
    InitiatingProcessUniqueId: spec.injector.uniqueId ? uniqueIdOf(injector) : null,
    ReportId: reportId,
  });
}

function connectionRowOf(scenario: Scenario, spec: ConnectionSpec, names: CopyNames, reportId: number): MdeRow {
  const connector = spec.child ?? processOf(scenario, spec.connector.process);

  return connectionRow({
    Timestamp: eventTime(spec.at),
    DeviceId: names.deviceId,
    DeviceName: names.deviceName,
    ActionType: spec.actionType,
    RemoteIP: spec.remoteIp,
    RemotePort: spec.remotePort,
    LocalPort: 50_000 + reportId,
    InitiatingProcessId: connector.pid,
    InitiatingProcessFileName: spelled(connector.name, spec.connector.capitalised),
    InitiatingProcessFolderPath: `c:\\windows\\system32\\${connector.name}`,
    InitiatingProcessCreationTime: spec.connector.creation ? eventTime(connector.created) : null,
    InitiatingProcessUniqueId: spec.connector.uniqueId ? uniqueIdOf(connector) : null,
    InitiatingProcessParentId: parentPid(scenario, spec.parent),
    ReportId: reportId,
  });
}

function parentPid(scenario: Scenario, parent: number | null): number | null {
  if (parent === null) return null;

  return parent < 0 ? STRANGER_PID : processOf(scenario, parent).pid;
}

/**
 * Sysmon stories on the copy's host: a create (event 1) of every process on the chain, a remote thread (event 8)
 * per hop, the connection (event 3, made whatever Defender would have called it) and a child's create under the
 * last target.
 */
function sysmonEvents(scenario: Scenario, names: CopyNames): RenderedEvent[] {
  const events = scenario.stories.filter((s) => s.sysmon).flatMap((story) => sysmonStory(scenario, story, names));

  return events.map((event, i) => ({ table: 'sysmon', row: { ...event, RecordNumber: 3000 + i } }));
}

function sysmonStory(scenario: Scenario, story: StorySpec, names: CopyNames): FlatEvent[] {
  const host = names.deviceName;
  const chain = story.hops.map((hop) => sysmonProcess(scenario, hop.process));
  const creates = [...new Map(chain.map((p) => [p.guid, p])).values()].map((p) =>
    processCreate(host, sysmonTime(p.created + SYSMON_CLOCK_LAG), p, EXPLORER),
  );
  const threads = storyInjections(story).map((injection, i) => {
    const target = story.unknownTarget ? { ...chain[i + 1]!, image: '<unknown process>' } : chain[i + 1]!;
    return remoteThread(host, sysmonTime(injection.at), chain[i]!, target);
  });
  const connection = storyConnection(story);
  const connector = connection.child ? sysmonView(connection.child) : chain.at(-1)!;
  const child = story.viaChild
    ? [processCreate(host, sysmonTime(connector.created + SYSMON_CLOCK_LAG), connector, chain.at(-1)!)]
    : [];

  return [
    ...creates,
    ...threads,
    ...child,
    networkConnect(host, sysmonTime(connection.at), connector, story.remotePort),
  ];
}

function sysmonProcess(scenario: Scenario, index: number): SysmonProcess & { created: number } {
  return sysmonView(processOf(scenario, index));
}

/** The Sysmon view of a process: a GUID fixed by its pid and creation time, its full image path. */
function sysmonView(process: ProcessSpec): SysmonProcess & { created: number } {
  const guid = `{5e1f${process.pid}-0000-0000-0000-${String(process.created + 100_000).padStart(12, '0')}}`;

  return { guid, pid: process.pid, image: `C:\\Windows\\System32\\${process.name}`, created: process.created };
}

/** The Defender part of a scenario as canonical events (what the mapper makes of the rows), redeliveries included. */
export function canonicalEvents(
  scenario: Scenario,
  deviceId: string,
): { injections: DeviceEvent[]; connections: DeviceNetworkEvent[] } {
  const { injections, connections } = defenderSpecs(scenario);
  const injectionEvents = injections.map((spec, i) => canonicalInjection(scenario, spec, deviceId, 1000 + i));
  const connectionEvents = connections.map((spec, i) => canonicalConnection(scenario, spec, deviceId, 2000 + i));
  const all = [...injectionEvents, ...connectionEvents];
  const again = scenario.redeliveries.map((n) => all[n % all.length]).filter((e) => e !== undefined);

  return {
    injections: [...injectionEvents, ...again.filter((e): e is DeviceEvent => e.table === 'DeviceEvents')],
    connections: [...connectionEvents, ...again.filter((e): e is DeviceNetworkEvent => e.table !== 'DeviceEvents')],
  };
}

function canonicalInjection(scenario: Scenario, spec: InjectionSpec, deviceId: string, reportId: number) {
  const injector = processOf(scenario, spec.injector.process);
  const target = processOf(scenario, spec.target.process);

  return deviceEvent({
    deviceId,
    timestamp: eventTime(spec.at),
    reportId: String(reportId),
    actionType: spec.actionType,
    fileName: spelled(target.name, spec.target.capitalised),
    folderPath: `c:\\windows\\system32\\${target.name}`,
    processId: target.pid,
    processCreationTime: spec.target.creation ? eventTime(target.created) : null,
    processUniqueId: spec.target.uniqueId ? String(uniqueIdOf(target)) : null,
    initiatingProcessId: injector.pid,
    initiatingProcessFileName: spelled(injector.name, spec.injector.capitalised),
    initiatingProcessFolderPath: folderOf(injector.name, spec.folder),
    initiatingProcessCreationTime: spec.injector.creation ? eventTime(injector.created) : null,
    initiatingProcessParentId: null,
    initiatingProcessUniqueId: spec.injector.uniqueId ? String(uniqueIdOf(injector)) : null,
  });
}

function canonicalConnection(scenario: Scenario, spec: ConnectionSpec, deviceId: string, reportId: number) {
  const connector = spec.child ?? processOf(scenario, spec.connector.process);

  return networkEvent({
    deviceId,
    timestamp: eventTime(spec.at),
    reportId: String(reportId),
    actionType: spec.actionType,
    remoteIp: spec.remoteIp,
    remotePort: spec.remotePort,
    localPort: 50_000 + reportId,
    initiatingProcessId: connector.pid,
    initiatingProcessFileName: spelled(connector.name, spec.connector.capitalised),
    initiatingProcessFolderPath: `c:\\windows\\system32\\${connector.name}`,
    initiatingProcessCreationTime: spec.connector.creation ? eventTime(connector.created) : null,
    initiatingProcessParentId: parentPid(scenario, spec.parent),
    initiatingProcessUniqueId: spec.connector.uniqueId ? String(uniqueIdOf(connector)) : null,
  });
}

/** How the second copy is posted: a permutation (sort keys), batch sizes and a route per batch. */
export interface PostingPlan {
  keys: number[];
  sizes: number[];
  routes: Route[];
}

/** `events-first` / `network-first`: a batch's rows to their tables' routes in that order; `mixed`: /api/v1/events. */
export type Route = 'events-first' | 'network-first' | 'mixed';

/** Posting plans for up to `maxEvents` events; longer arrays than needed keep shrinking independent of the scenario. */
export function postingPlanArbitrary(maxEvents: number): fc.Arbitrary<PostingPlan> {
  const fixed = <T>(arbitrary: fc.Arbitrary<T>) => fc.array(arbitrary, { minLength: maxEvents, maxLength: maxEvents });

  return fc.record({
    keys: fixed(fc.nat(1000)),
    sizes: fixed(fc.integer({ min: 1, max: 6 })),
    routes: fixed(fc.constantFrom<Route>('events-first', 'network-first', 'mixed')),
  });
}

/** The events permuted by the plan's keys (ties keep their order), then cut into its batches with their routes. */
export function planBatches<E>(events: readonly E[], plan: PostingPlan): { route: Route; events: E[] }[] {
  const queue = permuted(events, plan.keys);
  const batches: { route: Route; events: E[] }[] = [];
  for (let b = 0; queue.length > 0; b++) {
    batches.push({
      route: plan.routes[b % plan.routes.length]!,
      events: queue.splice(0, plan.sizes[b] ?? queue.length),
    });
  }

  return batches;
}

/** A permutation of `items` by sort keys (ties keep their order). */
export function permuted<T>(items: readonly T[], keys: readonly number[]): T[] {
  return items
    .map((item, i) => ({ item, key: keys[i] ?? 0, i }))
    .sort((a, b) => a.key - b.key || a.i - b.i)
    .map((o) => o.item);
}
