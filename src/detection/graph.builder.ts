import { MultiDirectedGraph } from 'graphology';

import { InvalidInputError } from '../common/domain.errors.js';
import type { RuleMode } from '../rules/rule.types.js';
import { SysmonEventId, type DeviceEvent, type DeviceNetworkEvent, type SysmonEvent } from '../ingest/event.types.js';
import {
  adwsEndpointNodeKey,
  EdgeKind,
  edgeKey,
  NodeKind,
  SYSMON_INJECTION_METHOD,
  type AccessedEdgeAttributes,
  type AccessOccurrence,
  type AdwsEndpointNodeAttributes,
  type EdgeKind as EdgeKindName,
  type ConnectedEdgeAttributes,
  type ConnectionOccurrence,
  type EdgeAttributes,
  type EvidenceRef,
  type GraphAttributes,
  type InjectedEdgeAttributes,
  type InjectionOccurrence,
  type NodeAttributes,
  type ProcessNodeAttributes,
  type SpawnedEdgeAttributes,
  type SpawnOccurrence,
} from '../vocabulary/graph.vocabulary.js';
import { eligibleConnection, eligibleInjection, evidenceId, evidenceRefOf } from './event.filters.js';
import {
  fileNameOf,
  ProcessResolver,
  type DefenderProcessRef,
  type ProcessIdentity,
  type ProcessRef,
  type ResolvedProcess,
} from './process.identity.js';
import { LifetimeResolver, type ProcessFact } from './process.lifetime.js';
import { compareOccurrences, compareStrings, sortedDistinct } from './sort.order.js';

export type DeviceGraph = MultiDirectedGraph<NodeAttributes, EdgeAttributes, GraphAttributes>;

/**
 * `reference`: Sysmon GUIDs, else (pid, lower-cased name), as in the public rule. `lifetime` (graph mode): GUIDs,
 * Defender unique ids and (pid, creation time) too, see process.lifetime.ts.
 */
export type IdentityMode = 'reference' | 'lifetime';

/** The identity a rule mode correlates on. */
export function identityOf(mode: RuleMode): IdentityMode {
  return mode === 'graph' ? 'lifetime' : 'reference';
}

export interface DeviceGraphEvents {
  injections: readonly DeviceEvent[];
  connections: readonly DeviceNetworkEvent[];
  /** Sysmon events of the graph's device, or of the hosts named in `hostIds` that share its graph. */
  sysmon?: readonly SysmonEvent[];
  hostIds?: readonly string[];
}

/** One sighting of a node in one event; `role` keeps a self-injection's two sightings apart. */
interface Observation {
  timestamp: string;
  evidence: EvidenceRef;
  role: 'injector' | 'target' | 'connector' | 'endpoint' | 'parent' | 'child' | 'accessor' | 'accessed';
  name: string | null;
  folderPath: string | null;
  /** A full image path (Sysmon), kept apart from Defender's folder paths. */
  imagePath?: string | null;
}

type ProcessNodeIdentity = Pick<
  ProcessNodeAttributes,
  'kind' | 'deviceId' | 'processId' | 'fileName' | 'processGuid' | 'creationTime'
>;
type EndpointIdentity = Pick<AdwsEndpointNodeAttributes, 'kind' | 'deviceId' | 'remoteIp' | 'remotePort'>;

interface NodeDraft {
  identity: ProcessNodeIdentity | EndpointIdentity;
  observations: Map<string, Observation>;
}

interface EdgeDraft<O> {
  source: string;
  target: string;
  occurrences: Map<string, O>;
}

interface GraphDraft {
  deviceId: string;
  processes: ProcessIdentity;
  /** Graph mode: draw Defender's InitiatingProcessParentId as `spawned` edges. */
  defenderParents: boolean;
  nodes: Map<string, NodeDraft>;
  injected: Map<string, EdgeDraft<InjectionOccurrence>>;
  connected: Map<string, EdgeDraft<ConnectionOccurrence>>;
  spawned: Map<string, EdgeDraft<SpawnOccurrence>>;
  accessed: Map<string, EdgeDraft<AccessOccurrence>>;
}

/**
 * The entity graph of one device: process nodes, `injected` edges injector → target, `connected` edges
 * process → ADWS endpoint, and from Sysmon `spawned` edges parent → child and `accessed` edges source → target,
 * each carrying every occurrence with its evidence. Process identity is in process.identity.ts: a Sysmon
 * ProcessGuid where the event has one, else the reference identity (device, pid, lower-cased name). Only
 * events that are injection evidence (rule 2; Sysmon event 8) or ADWS connections (rule 1; Sysmon event 3
 * initiated on an ADWS port) with known processes become `injected` and `connected` edges. Exclusions are not
 * applied here: the graph shows everything and the path finder filters. Redelivered events (same evidence)
 * count once, and any input order gives the same graph, down to the order of nodes and edges in its export.
 */
export function buildDeviceGraph(
  deviceId: string,
  events: DeviceGraphEvents,
  adwsPorts: readonly number[],
  identity: IdentityMode = 'reference',
): DeviceGraph {
  const devices = new Set([deviceId, ...(events.hostIds ?? [])]);
  const sysmon = (events.sysmon ?? []).map((event) => checkDevice(devices, event));
  const lifetimes = identity === 'lifetime';
  const draft: GraphDraft = {
    deviceId,
    processes: lifetimes
      ? new LifetimeResolver(deviceId, processFacts(events, sysmon))
      : new ProcessResolver(deviceId, sysmon),
    defenderParents: lifetimes,
    nodes: new Map(),
    injected: new Map(),
    connected: new Map(),
    spawned: new Map(),
    accessed: new Map(),
  };

  for (const event of events.injections) addInjection(draft, checkDevice(devices, event));
  for (const event of events.connections) addConnection(draft, checkDevice(devices, event), adwsPorts);
  for (const event of sysmon) addSysmonEvent(draft, event, adwsPorts);

  return materialise(draft);
}

function checkDevice<E extends DeviceEvent | DeviceNetworkEvent | SysmonEvent>(devices: Set<string>, event: E): E {
  if (!devices.has(event.deviceId)) {
    throw new InvalidInputError('event belongs to another device', {
      deviceIds: [...devices],
      event: evidenceRefOf(event),
    });
  }

  return event;
}

function addInjection(draft: GraphDraft, event: DeviceEvent): void {
  const eligible = eligibleInjection(event);
  if (!eligible) return;

  const evidence = evidenceRefOf(event);
  const sighting = { timestamp: event.timestamp, evidence };
  const injectorName = event.initiatingProcessFileName;
  const injectorRef = initiatorRef(event, eligible.injectorId, injectorName ?? '');
  const injector = observeProcess(draft, injectorRef, {
    ...sighting,
    role: 'injector',
    name: injectorName,
    folderPath: event.initiatingProcessFolderPath,
  });
  const targetRef = {
    processId: eligible.targetId,
    name: eligible.targetName,
    uniqueId: event.processUniqueId,
    creationTime: event.processCreationTime,
    timestamp: event.timestamp,
  };
  const target = observeProcess(draft, targetRef, {
    ...sighting,
    role: 'target',
    name: eligible.targetName,
    folderPath: event.folderPath,
  });
  edgeDraft(draft.injected, EdgeKind.Injected, injector, target).occurrences.set(evidenceId(evidence), {
    ...sighting,
    actionType: eligible.actionType,
    injectorFileName: injectorName ?? '',
    injectorFolderPath: event.initiatingProcessFolderPath,
    deviceName: event.deviceName,
  });
}

function addConnection(draft: GraphDraft, event: DeviceNetworkEvent, adwsPorts: readonly number[]): void {
  const eligible = eligibleConnection(event, adwsPorts);
  if (!eligible) return;

  const evidence = evidenceRefOf(event);
  const sighting = { timestamp: event.timestamp, evidence };
  const remoteIp = event.remoteIp ?? '';
  const process = observeProcess(draft, initiatorRef(event, eligible.processId, eligible.processName), {
    ...sighting,
    role: 'connector',
    name: eligible.processName,
    folderPath: event.initiatingProcessFolderPath,
  });
  if (draft.defenderParents) addDefenderParent(draft, event, process, sighting);
  const endpoint = observeEndpoint(draft, remoteIp, eligible.remotePort, sighting);
  edgeDraft(draft.connected, EdgeKind.Connected, process, endpoint).occurrences.set(evidenceId(evidence), {
    ...sighting,
    remoteIp,
    remotePort: eligible.remotePort,
    localIp: event.localIp,
    localPort: event.localPort,
    deviceName: event.deviceName,
  });
}

/** A Defender process (see ProcessIdentity.defender). */
function observeProcess(draft: GraphDraft, ref: DefenderProcessRef, observation: Observation): string {
  return observeResolved(draft, draft.processes.defender(ref), observation);
}

function initiatorRef(event: DeviceEvent | DeviceNetworkEvent, processId: number, name: string): DefenderProcessRef {
  const { initiatingProcessUniqueId: uniqueId, initiatingProcessCreationTime: creationTime, timestamp } = event;

  return { processId, name, uniqueId, creationTime, timestamp };
}

/**
 * Graph mode: the connecting process's parent (InitiatingProcessParentId) as a `spawned` edge, when the parent is a
 * process the graph can identify (the one with that pid created last before the child).
 */
function addDefenderParent(
  draft: GraphDraft,
  event: DeviceNetworkEvent,
  childKey: string,
  sighting: Pick<Observation, 'timestamp' | 'evidence'>,
): void {
  const parentId = event.initiatingProcessParentId;
  if (parentId === null || parentId === 0) return;
  const at = event.initiatingProcessCreationTime ?? event.timestamp;
  const parent = draft.processes.resolve({
    guid: null,
    processId: parentId,
    creationTime: event.initiatingProcessParentCreationTime ?? null,
    image: event.initiatingProcessParentFileName ?? null,
    timestamp: at,
  });
  if (parent === null || parent.key === childKey) return;

  const observation: Observation = { ...sighting, role: 'parent', name: null, folderPath: null };
  const parentKey = observeResolved(draft, parent, observation);
  // The spawn happened when the child was created; the row's own time is only a bound when that is unknown.
  const spawnedAt = { ...sighting, timestamp: event.initiatingProcessCreationTime ?? event.timestamp };
  edgeDraft(draft.spawned, EdgeKind.Spawned, parentKey, childKey).occurrences.set(evidenceId(sighting.evidence), {
    ...spawnedAt,
    deviceName: event.deviceName,
  });
}

function observeResolved(draft: GraphDraft, process: ResolvedProcess, observation: Observation): string {
  const { key, processId, fileName, processGuid, creationTime } = process;
  const identity = { kind: NodeKind.Process, deviceId: draft.deviceId, processId, fileName, processGuid, creationTime };

  return observe(draft, key, identity, observation);
}

function observeEndpoint(
  draft: GraphDraft,
  remoteIp: string,
  remotePort: number,
  sighting: Pick<Observation, 'timestamp' | 'evidence'>,
): string {
  const key = adwsEndpointNodeKey(draft.deviceId, remoteIp, remotePort);
  const identity = { kind: NodeKind.AdwsEndpoint, deviceId: draft.deviceId, remoteIp, remotePort };

  return observe(draft, key, identity, { ...sighting, role: 'endpoint', name: null, folderPath: null });
}

/** The Sysmon events that draw: 1 (`spawned`), 3 (`connected`, initiated to an ADWS port), 8, 10. */
function addSysmonEvent(draft: GraphDraft, event: SysmonEvent, adwsPorts: readonly number[]): void {
  switch (event.eventId) {
    case SysmonEventId.ProcessCreate:
      return addSpawn(draft, event);
    case SysmonEventId.NetworkConnect:
      return addSysmonConnection(draft, event, adwsPorts);
    case SysmonEventId.CreateRemoteThread:
      return addSysmonInjection(draft, event);
    case SysmonEventId.ProcessAccess:
      return addAccess(draft, event);
    default:
      return;
  }
}

/** Event 8: source → target, method CreateRemoteThreadApiCall; both processes must be identifiable. */
function addSysmonInjection(draft: GraphDraft, event: SysmonEvent): void {
  const pair = observePair(draft, event, [actingRef(event), 'injector'], [targetRef(event), 'target']);
  if (pair === null) return;

  edgeDraft(draft.injected, EdgeKind.Injected, pair.source, pair.target).occurrences.set(pair.id, {
    ...pair.sighting,
    actionType: SYSMON_INJECTION_METHOD,
    injectorFileName: event.image === null ? '' : fileNameOf(event.image),
    injectorFolderPath: event.image,
    deviceName: event.deviceName,
  });
}

/** Event 3 started by the process (`Initiated`) to an ADWS port. */
// TODO: the occurrence keeps the Hostname spelling as its DeviceName, and rule 6 groups by DeviceName, so a Sysmon
// and a Defender connection into one target whose host names differ in case give two alerts.
function addSysmonConnection(draft: GraphDraft, event: SysmonEvent, adwsPorts: readonly number[]): void {
  const { initiated, destinationPort, destinationIp } = event;
  if (initiated !== true || destinationPort === null || !adwsPorts.includes(destinationPort)) return;
  const process = draft.processes.resolve(actingRef(event));
  if (process === null) return;

  const evidence = evidenceRefOf(event);
  const sighting = { timestamp: event.timestamp, evidence };
  const remoteIp = destinationIp ?? '';
  const processKey = observeResolved(draft, process, sysmonObservation(sighting, 'connector', event.image));
  const endpoint = observeEndpoint(draft, remoteIp, destinationPort, sighting);
  edgeDraft(draft.connected, EdgeKind.Connected, processKey, endpoint).occurrences.set(evidenceId(evidence), {
    ...sighting,
    remoteIp,
    remotePort: destinationPort,
    localIp: event.sourceIp,
    localPort: event.sourcePort,
    deviceName: event.deviceName,
  });
}

/** Event 1: parent → child. */
function addSpawn(draft: GraphDraft, event: SysmonEvent): void {
  const { parentProcessGuid: guid, parentProcessId: processId, parentImage: image, timestamp } = event;
  const pair = observePair(
    draft,
    event,
    [{ guid, processId, image, timestamp }, 'parent'],
    [actingRef(event), 'child'],
  );
  if (pair === null) return;

  edgeDraft(draft.spawned, EdgeKind.Spawned, pair.source, pair.target).occurrences.set(pair.id, {
    ...pair.sighting,
    deviceName: event.deviceName,
  });
}

/** Event 10: source → target with the access mask; drawn only, never injection evidence. */
function addAccess(draft: GraphDraft, event: SysmonEvent): void {
  const pair = observePair(draft, event, [actingRef(event), 'accessor'], [targetRef(event), 'accessed']);
  if (pair === null) return;

  edgeDraft(draft.accessed, EdgeKind.Accessed, pair.source, pair.target).occurrences.set(pair.id, {
    ...pair.sighting,
    grantedAccess: event.grantedAccess,
    deviceName: event.deviceName,
  });
}

type RoleRef = [ProcessRef, Observation['role']];

/** Resolves and observes the two processes a Sysmon event links; null when either cannot be identified. */
function observePair(draft: GraphDraft, event: SysmonEvent, [fromRef, fromRole]: RoleRef, [toRef, toRole]: RoleRef) {
  const from = draft.processes.resolve(fromRef);
  const to = draft.processes.resolve(toRef);
  if (from === null || to === null) return null;

  const evidence = evidenceRefOf(event);
  const sighting = { timestamp: event.timestamp, evidence };
  const source = observeResolved(draft, from, sysmonObservation(sighting, fromRole, fromRef.image));
  const target = observeResolved(draft, to, sysmonObservation(sighting, toRole, toRef.image));

  return { source, target, sighting, id: evidenceId(evidence) };
}

/** What every event says about the processes it names, for the lifetime identity. */
function processFacts(events: DeviceGraphEvents, sysmon: readonly SysmonEvent[]): ProcessFact[] {
  const facts: ProcessFact[] = [];
  const initiator = (e: DeviceEvent | DeviceNetworkEvent): ProcessFact => ({
    guid: null,
    uniqueId: e.initiatingProcessUniqueId,
    processId: e.initiatingProcessId,
    creationTime: e.initiatingProcessCreationTime,
    image: e.initiatingProcessFileName,
  });
  for (const e of events.injections) {
    facts.push(initiator(e), {
      guid: null,
      uniqueId: e.processUniqueId,
      processId: e.processId,
      creationTime: e.processCreationTime,
      image: e.fileName,
    });
  }
  for (const e of events.connections) facts.push(initiator(e), parentOf(e));
  for (const e of sysmon) facts.push(...sysmonFacts(e));

  return facts;
}

/** What a row says of its initiating process's parent; only a pid with a creation time makes it a lifetime. */
function parentOf(e: DeviceNetworkEvent): ProcessFact {
  return {
    guid: null,
    uniqueId: null,
    processId: e.initiatingProcessParentId,
    creationTime: e.initiatingProcessParentCreationTime ?? null,
    image: e.initiatingProcessParentFileName ?? null,
  };
}

function sysmonFacts(e: SysmonEvent): ProcessFact[] {
  const created = e.eventId === SysmonEventId.ProcessCreate ? e.timestamp : null;

  return [
    { guid: e.processGuid, uniqueId: null, processId: e.processId, creationTime: created, image: e.image },
    {
      guid: e.parentProcessGuid,
      uniqueId: null,
      processId: e.parentProcessId,
      creationTime: null,
      image: e.parentImage,
    },
    {
      guid: e.targetProcessGuid,
      uniqueId: null,
      processId: e.targetProcessId,
      creationTime: null,
      image: e.targetImage,
    },
  ].filter((f) => f.guid !== null || f.processId !== null);
}

function actingRef(event: SysmonEvent): ProcessRef {
  return { guid: event.processGuid, processId: event.processId, image: event.image, timestamp: event.timestamp };
}

function targetRef(event: SysmonEvent): ProcessRef {
  const { targetProcessGuid: guid, targetProcessId: processId, targetImage: image, timestamp } = event;

  return { guid, processId, image, timestamp };
}

function sysmonObservation(
  sighting: Pick<Observation, 'timestamp' | 'evidence'>,
  role: Observation['role'],
  image: string | null,
): Observation {
  return { ...sighting, role, name: image === null ? null : fileNameOf(image), folderPath: null, imagePath: image };
}

function observe(draft: GraphDraft, key: string, identity: NodeDraft['identity'], observation: Observation): string {
  const node = draft.nodes.get(key) ?? { identity, observations: new Map() };
  node.observations.set(`${evidenceId(observation.evidence)}\u0000${observation.role}`, observation);
  draft.nodes.set(key, node);

  return key;
}

function edgeDraft<O>(
  edges: Map<string, EdgeDraft<O>>,
  kind: EdgeKindName,
  source: string,
  target: string,
): EdgeDraft<O> {
  const key = edgeKey(kind, source, target);
  const edge = edges.get(key) ?? { source, target, occurrences: new Map() };
  edges.set(key, edge);

  return edge;
}

function materialise(draft: GraphDraft): DeviceGraph {
  const graph: DeviceGraph = new MultiDirectedGraph<NodeAttributes, EdgeAttributes, GraphAttributes>();
  graph.replaceAttributes({ deviceId: draft.deviceId });

  for (const key of sortedKeys(draft.nodes)) graph.addNode(key, nodeAttributes(draft.nodes.get(key)!));
  const edges = [
    ...[...draft.injected].map(([key, edge]) => ({ key, edge, attributes: injectedEdge(sortedOccurrences(edge)) })),
    ...[...draft.connected].map(([key, edge]) => ({ key, edge, attributes: connectedEdge(sortedOccurrences(edge)) })),
    ...[...draft.spawned].map(([key, edge]) => ({ key, edge, attributes: spawnedEdge(sortedOccurrences(edge)) })),
    ...[...draft.accessed].map(([key, edge]) => ({ key, edge, attributes: accessedEdge(sortedOccurrences(edge)) })),
  ].sort((a, b) => compareStrings(a.key, b.key));
  for (const { key, edge, attributes } of edges) {
    graph.addDirectedEdgeWithKey(key, edge.source, edge.target, attributes);
  }

  return graph;
}

function nodeAttributes(node: NodeDraft): NodeAttributes {
  const observations = [...node.observations.values()].sort(compareOccurrences);
  const seen = { firstSeen: observations[0]!.timestamp, lastSeen: observations[observations.length - 1]!.timestamp };
  if (node.identity.kind === NodeKind.AdwsEndpoint) return { ...node.identity, ...seen };

  return {
    ...node.identity,
    imagePath: firstSeenFirst(observations.map((o) => o.imagePath ?? null))[0] ?? null,
    observedNames: firstSeenFirst(observations.map((o) => o.name)),
    folderPaths: firstSeenFirst(observations.map((o) => o.folderPath)),
    ...seen,
  };
}

function sortedOccurrences<O extends { timestamp: string; evidence: EvidenceRef }>(edge: EdgeDraft<O>): O[] {
  return [...edge.occurrences.values()].sort(compareOccurrences);
}

/** The attributes of each edge kind from its time-sorted, non-empty occurrences. */
function injectedEdge(occurrences: InjectionOccurrence[]): InjectedEdgeAttributes {
  const actionTypes = sortedDistinct(occurrences.map((o) => o.actionType));

  return { kind: EdgeKind.Injected, actionTypes, ...occurrenceSummary(occurrences), occurrences };
}

function connectedEdge(occurrences: ConnectionOccurrence[]): ConnectedEdgeAttributes {
  return { kind: EdgeKind.Connected, ...occurrenceSummary(occurrences), occurrences };
}

function spawnedEdge(occurrences: SpawnOccurrence[]): SpawnedEdgeAttributes {
  return { kind: EdgeKind.Spawned, ...occurrenceSummary(occurrences), occurrences };
}

function accessedEdge(occurrences: AccessOccurrence[]): AccessedEdgeAttributes {
  const grantedAccess = sortedDistinct(occurrences.flatMap((o) => (o.grantedAccess === null ? [] : [o.grantedAccess])));

  return { kind: EdgeKind.Accessed, grantedAccess, ...occurrenceSummary(occurrences), occurrences };
}

/** First and last time and count of time-sorted, non-empty occurrences. */
export function occurrenceSummary(occurrences: readonly { timestamp: string }[]): {
  firstSeen: string;
  lastSeen: string;
  count: number;
} {
  const count = occurrences.length;

  return { firstSeen: occurrences[0]!.timestamp, lastSeen: occurrences[count - 1]!.timestamp, count };
}

/** Distinct non-empty values in the order first seen. */
function firstSeenFirst(values: readonly (string | null)[]): string[] {
  return [...new Set(values.filter((v): v is string => !!v))];
}

function sortedKeys(map: Map<string, unknown>): string[] {
  return [...map.keys()].sort(compareStrings);
}

/** The edge with only the occurrences `keep` accepts and its summary recomputed; null when none is left. */
export function occurrencesWhere(
  attributes: EdgeAttributes,
  keep: (occurrence: { timestamp: string; evidence: EvidenceRef }) => boolean,
): EdgeAttributes | null {
  switch (attributes.kind) {
    case EdgeKind.Injected:
      return nonEmpty(attributes.occurrences.filter(keep), injectedEdge);
    case EdgeKind.Connected:
      return nonEmpty(attributes.occurrences.filter(keep), connectedEdge);
    case EdgeKind.Spawned:
      return nonEmpty(attributes.occurrences.filter(keep), spawnedEdge);
    case EdgeKind.Accessed:
      return nonEmpty(attributes.occurrences.filter(keep), accessedEdge);
  }
}

function nonEmpty<O, E>(occurrences: O[], edge: (occurrences: O[]) => E): E | null {
  return occurrences.length === 0 ? null : edge(occurrences);
}
