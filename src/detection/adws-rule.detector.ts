import { MultiDirectedGraph } from 'graphology';

import { NotFoundError } from '../common/domain.errors.js';
import { ADWS_RULE_ID, type AdwsRuleSettings } from '../rules/rule.types.js';
import {
  NodeKind,
  type ConnectionOccurrence,
  type EdgeAttributes,
  type EvidenceRef,
  type GraphAttributes,
  type InjectionOccurrence,
  type NodeAttributes,
  type ProcessNodeAttributes,
} from '../vocabulary/graph.vocabulary.js';
import { comparePaths, exclusionReport, pathEdge, pathNode } from './alert.explanation.js';
import { splitDeviceName } from './device-name.js';
import { detectGraphModeCandidates } from './graph-mode.detector.js';
import type { AlertCandidate, AlertPath, ConnectionSummary, InjectorSummary } from './alert.types.js';
import { evidenceId } from './event.filters.js';
import { occurrenceSummary, occurrencesWhere, type DeviceGraph } from './graph.builder.js';
import { findInjectionPaths, type InjectionPath } from './path.finder.js';
import { compareEvidence, compareNumbers, compareOccurrences, compareStrings, sortedDistinct } from './sort.order.js';

/**
 * The rule on one device graph, in the settings' mode: graph mode is graph-mode.detector.ts; reference mode follows.
 * Rule 6: one candidate per (device, DeviceName of the connections, target process), summarising the
 * matched injections and connections of every path into that target. Sorted by device id, device
 * name, target pid and name; every list inside is sorted, so equal graphs give deep-equal output.
 */
export function detectAlertCandidates(graph: DeviceGraph, settings: AdwsRuleSettings): AlertCandidate[] {
  if (settings.mode === 'graph') return detectGraphModeCandidates(graph, settings);

  const groups = new Map<string, InjectionPath[]>();
  for (const path of findInjectionPaths(graph, settings)) {
    const key = [path.deviceId, path.deviceName, path.targetKey].join('\u0000');
    const group = groups.get(key);
    if (group) group.push(path);
    else groups.set(key, [path]);
  }

  return [...groups.values()].map((paths) => toCandidate(graph, paths, settings)).sort(compareCandidates);
}

function toCandidate(graph: DeviceGraph, paths: InjectionPath[], settings: AdwsRuleSettings): AlertCandidate {
  const { deviceId, deviceName, targetKey } = paths[0]!;
  const target = processAttributes(graph, targetKey);
  const injections = distinctOccurrences(paths.map((p) => p.injections));
  const connections = distinctOccurrences(paths.map((p) => p.connections));
  const evidence = [...injections, ...connections].map((o) => o.evidence).sort(compareEvidence);

  return {
    ruleId: ADWS_RULE_ID,
    deviceId,
    deviceName,
    ...splitDeviceName(deviceName),
    timestamp: connections[0]!.timestamp,
    processId: target.processId,
    fileName: target.fileName,
    injectionMethods: sortedDistinct(injections.map((o) => o.actionType)),
    injectors: injectorSummaries(graph, paths),
    connections: connections.map(connectionSummary).sort(compareConnectionSummaries),
    evidence,
    nodeKeys: sortedDistinct(paths.flatMap((p) => p.nodeKeys)),
    ...referenceExplanation(graph, paths, settings),
  };
}

/** Reference mode explains each injector → target → endpoint path; it knows no lifetimes, so no gaps. */
function referenceExplanation(graph: DeviceGraph, paths: InjectionPath[], settings: AdwsRuleSettings) {
  const explained = paths.map((p) => explainPath(graph, p)).sort(comparePaths);
  const distinct = [...new Map(explained.map((p) => [JSON.stringify(p), p])).values()];

  return {
    mode: 'reference' as const,
    path: distinct[0]!,
    paths: distinct,
    viaDescendant: false,
    evidenceGaps: [],
    exclusionsConsidered: exclusionReport(graph, settings, [paths[0]!.targetKey]),
  };
}

function explainPath(graph: DeviceGraph, path: InjectionPath): AlertPath {
  const nodes = [...new Set(path.nodeKeys)].map((key) => pathNode(graph, key));
  const edges = [
    pathEdge(graph, path.edgeKeys[0], path.injections),
    pathEdge(graph, path.edgeKeys[1], path.connections),
  ];

  return { nodes, edges, viaDescendant: false };
}

function injectorSummaries(graph: DeviceGraph, paths: InjectionPath[]): InjectorSummary[] {
  const byInjector = new Map<string, InjectionOccurrence[][]>();
  for (const path of paths) {
    const lists = byInjector.get(path.injectorKey);
    if (lists) lists.push(path.injections);
    else byInjector.set(path.injectorKey, [path.injections]);
  }

  return [...byInjector]
    .map(([key, lists]) => ({ key, summary: injectorSummary(graph, key, distinctOccurrences(lists)) }))
    .sort((a, b) => compareInjectors(a.summary, b.summary) || compareStrings(a.key, b.key))
    .map(({ summary }) => summary);
}

/** `occurrences` are time-sorted; names and folder paths are taken as first observed in them. */
function injectorSummary(graph: DeviceGraph, key: string, occurrences: InjectionOccurrence[]): InjectorSummary {
  const { firstSeen, lastSeen } = occurrenceSummary(occurrences);

  return {
    processId: processAttributes(graph, key).processId,
    fileName: occurrences[0]!.injectorFileName,
    folderPath: occurrences.find((o) => o.injectorFolderPath !== null)?.injectorFolderPath ?? null,
    actionTypes: sortedDistinct(occurrences.map((o) => o.actionType)),
    firstSeen,
    lastSeen,
  };
}

function connectionSummary(occurrence: ConnectionOccurrence): ConnectionSummary {
  const { timestamp, remoteIp, remotePort, localIp, localPort } = occurrence;

  return { timestamp, remoteIp, remotePort, localIp, localPort };
}

/**
 * The union of occurrence lists, sorted by time then evidence. Paths hand out the graph's own
 * occurrence objects and one event is one occurrence, so identity is distinctness by evidence.
 */
function distinctOccurrences<O extends { timestamp: string; evidence: EvidenceRef }>(lists: O[][]): O[] {
  const distinct = new Set<O>();
  for (const list of lists) for (const occurrence of list) distinct.add(occurrence);

  return [...distinct].sort(compareOccurrences);
}

function processAttributes(graph: DeviceGraph, key: string): ProcessNodeAttributes {
  const attributes = graph.getNodeAttributes(key);
  if (attributes.kind !== NodeKind.Process) throw new NotFoundError('process node not found', { nodeKey: key });

  return attributes;
}

function compareCandidates(a: AlertCandidate, b: AlertCandidate): number {
  return (
    compareStrings(a.deviceId, b.deviceId) ||
    compareStrings(a.deviceName, b.deviceName) ||
    compareNumbers(a.processId, b.processId) ||
    compareStrings(a.fileName, b.fileName)
  );
}

function compareInjectors(a: InjectorSummary, b: InjectorSummary): number {
  return compareNumbers(a.processId, b.processId) || compareStrings(a.fileName, b.fileName);
}

function compareConnectionSummaries(a: ConnectionSummary, b: ConnectionSummary): number {
  return (
    compareStrings(a.timestamp, b.timestamp) ||
    compareStrings(a.remoteIp, b.remoteIp) ||
    compareNumbers(a.remotePort, b.remotePort) ||
    compareStrings(a.localIp ?? '', b.localIp ?? '') ||
    compareNumbers(a.localPort ?? -1, b.localPort ?? -1)
  );
}

/**
 * The evidence behind one candidate as a graph: its nodes, and the edges between them carrying only
 * the occurrences the candidate cites (counts and times recomputed). What `GET /alerts/{id}/graph` returns.
 */
export function alertSubgraph(
  graph: DeviceGraph,
  candidate: Pick<AlertCandidate, 'evidence' | 'nodeKeys'>,
): DeviceGraph {
  const cited = new Set(candidate.evidence.map(evidenceId));
  const subgraph: DeviceGraph = new MultiDirectedGraph<NodeAttributes, EdgeAttributes, GraphAttributes>();
  subgraph.replaceAttributes({ ...graph.getAttributes() });

  for (const key of [...candidate.nodeKeys].sort(compareStrings)) subgraph.addNode(key, existingNode(graph, key));
  graph.forEachEdge((key, attributes, source, target) => {
    if (!subgraph.hasNode(source) || !subgraph.hasNode(target)) return;
    const kept = occurrencesWhere(attributes, (o) => cited.has(evidenceId(o.evidence)));
    if (kept) subgraph.addDirectedEdgeWithKey(key, source, target, kept);
  });

  return subgraph;
}

function existingNode(graph: DeviceGraph, key: string): NodeAttributes {
  if (!graph.hasNode(key)) throw new NotFoundError('alert node is not in the device graph', { nodeKey: key });

  return { ...graph.getNodeAttributes(key) };
}
