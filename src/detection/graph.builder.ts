import { DirectedGraph } from 'graphology';

import { InvalidInputError } from '../common/domain.errors.js';
import type { DeviceEvent, DeviceNetworkEvent } from '../ingest/event.types.js';
import {
  adwsEndpointNodeKey,
  EdgeKind,
  edgeKey,
  NodeKind,
  processNodeKey,
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
} from '../vocabulary/graph.vocabulary.js';
import { eligibleConnection, eligibleInjection, evidenceId, evidenceRefOf } from './event.filters.js';
import { compareOccurrences, compareStrings, sortedDistinct } from './sort.order.js';

export type DeviceGraph = DirectedGraph<NodeAttributes, EdgeAttributes, GraphAttributes>;

export interface DeviceGraphEvents {
  injections: readonly DeviceEvent[];
  connections: readonly DeviceNetworkEvent[];
}

/** One sighting of a node in one event; `role` keeps a self-injection's two sightings apart. */
interface Observation {
  timestamp: string;
  evidence: EvidenceRef;
  role: 'injector' | 'target' | 'connector' | 'endpoint';
  name: string | null;
  folderPath: string | null;
}

type ProcessIdentity = Pick<ProcessNodeAttributes, 'kind' | 'deviceId' | 'processId' | 'fileName'>;
type EndpointIdentity = Pick<AdwsEndpointNodeAttributes, 'kind' | 'deviceId' | 'remoteIp' | 'remotePort'>;

interface NodeDraft {
  identity: ProcessIdentity | EndpointIdentity;
  observations: Map<string, Observation>;
}

interface EdgeDraft<O> {
  source: string;
  target: string;
  occurrences: Map<string, O>;
}

interface GraphDraft {
  deviceId: string;
  nodes: Map<string, NodeDraft>;
  injected: Map<string, EdgeDraft<InjectionOccurrence>>;
  connected: Map<string, EdgeDraft<ConnectionOccurrence>>;
}

/**
 * The entity graph of one device: process nodes (reference identity: device, pid, lower-cased name),
 * `injected` edges injector → target and `connected` edges process → ADWS endpoint, each carrying
 * every occurrence with its evidence. Only events that are injection evidence (rule 2) or ADWS
 * connections (rule 1) with known pids become edges. Exclusions are not applied here: the graph shows
 * everything and the path finder filters. Redelivered events (same evidence) count once, and any input
 * order gives the same graph, down to the order of nodes and edges in its export.
 */
export function buildDeviceGraph(
  deviceId: string,
  events: DeviceGraphEvents,
  adwsPorts: readonly number[],
): DeviceGraph {
  const draft: GraphDraft = { deviceId, nodes: new Map(), injected: new Map(), connected: new Map() };

  for (const event of events.injections) addInjection(draft, checkDevice(deviceId, event));
  for (const event of events.connections) addConnection(draft, checkDevice(deviceId, event), adwsPorts);

  return materialise(draft);
}

function checkDevice<E extends DeviceEvent | DeviceNetworkEvent>(deviceId: string, event: E): E {
  if (event.deviceId !== deviceId) {
    throw new InvalidInputError('event belongs to another device', { deviceId, event: evidenceRefOf(event) });
  }

  return event;
}

function addInjection(draft: GraphDraft, event: DeviceEvent): void {
  const eligible = eligibleInjection(event);
  if (!eligible) return;

  const evidence = evidenceRefOf(event);
  const sighting = { timestamp: event.timestamp, evidence };
  const injectorName = event.initiatingProcessFileName;
  const injector = observeProcess(draft, eligible.injectorId, injectorName ?? '', {
    ...sighting,
    role: 'injector',
    name: injectorName,
    folderPath: event.initiatingProcessFolderPath,
  });
  const target = observeProcess(draft, eligible.targetId, eligible.targetName, {
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
  const process = observeProcess(draft, eligible.processId, eligible.processName, {
    ...sighting,
    role: 'connector',
    name: eligible.processName,
    folderPath: event.initiatingProcessFolderPath,
  });
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

function observeProcess(draft: GraphDraft, processId: number, name: string, observation: Observation): string {
  const key = processNodeKey(draft.deviceId, processId, name);
  const identity = { kind: NodeKind.Process, deviceId: draft.deviceId, processId, fileName: name.toLowerCase() };

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
  const graph: DeviceGraph = new DirectedGraph<NodeAttributes, EdgeAttributes, GraphAttributes>();
  graph.replaceAttributes({ deviceId: draft.deviceId });

  for (const key of sortedKeys(draft.nodes)) graph.addNode(key, nodeAttributes(draft.nodes.get(key)!));
  const edges = [
    ...[...draft.injected].map(([key, edge]) => ({ key, edge, attributes: injectedAttributes(edge) })),
    ...[...draft.connected].map(([key, edge]) => ({ key, edge, attributes: connectedAttributes(edge) })),
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
    observedNames: firstSeenFirst(observations.map((o) => o.name)),
    folderPaths: firstSeenFirst(observations.map((o) => o.folderPath)),
    ...seen,
  };
}

function injectedAttributes(edge: EdgeDraft<InjectionOccurrence>): InjectedEdgeAttributes {
  const occurrences = [...edge.occurrences.values()].sort(compareOccurrences);
  const actionTypes = sortedDistinct(occurrences.map((o) => o.actionType));

  return { kind: EdgeKind.Injected, actionTypes, ...occurrenceSummary(occurrences), occurrences };
}

function connectedAttributes(edge: EdgeDraft<ConnectionOccurrence>): ConnectedEdgeAttributes {
  const occurrences = [...edge.occurrences.values()].sort(compareOccurrences);

  return { kind: EdgeKind.Connected, ...occurrenceSummary(occurrences), occurrences };
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
