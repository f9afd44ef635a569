import type { AdwsRuleSettings, InjectorExclusion } from '../rules/rule.types.js';
import { EdgeKind, NodeKind, type EvidenceRef, type InjectionOccurrence } from '../vocabulary/graph.vocabulary.js';
import type { AlertPath, ExclusionReport, PathEdge, PathNode } from './alert.types.js';
import { deviceMatches, matchingExclusion } from './exclusion.matcher.js';
import type { DeviceGraph } from './graph.builder.js';
import { exclusionTargetOf } from './path.finder.js';
import { compareEvidence, compareStrings, sortedDistinct } from './sort.order.js';

/** What an alert path shows of a node: identity and names, not every observation. */
export function pathNode(graph: DeviceGraph, key: string): PathNode {
  const node = graph.getNodeAttributes(key);
  if (node.kind === NodeKind.AdwsEndpoint) {
    return { key, kind: node.kind, remoteIp: node.remoteIp, remotePort: node.remotePort };
  }

  const { processId, fileName, processGuid, creationTime } = node;
  return { key, kind: node.kind, processId, fileName, processGuid, creationTime };
}

/** An edge of a path with the occurrences that satisfy the rule (time-sorted, non-empty). */
export function pathEdge(
  graph: DeviceGraph,
  key: string,
  occurrences: readonly { timestamp: string; evidence: EvidenceRef; actionType?: string }[],
): PathEdge {
  const attributes = graph.getEdgeAttributes(key);
  const times = occurrences.map((o) => o.timestamp).sort(compareStrings);
  const edge: PathEdge = {
    key,
    kind: attributes.kind,
    source: graph.source(key),
    target: graph.target(key),
    firstSeen: times[0]!,
    lastSeen: times[times.length - 1]!,
    evidence: occurrences.map((o) => o.evidence).sort(compareEvidence),
  };
  if (attributes.kind === EdgeKind.Injected) edge.methods = sortedDistinct(occurrences.map((o) => o.actionType ?? ''));

  return edge;
}

/** Paths in a stable order: earliest first evidence, then longest, then by node keys. */
export function comparePaths(a: AlertPath, b: AlertPath): number {
  return (
    compareStrings(a.edges[0]!.firstSeen, b.edges[0]!.firstSeen) ||
    b.edges.length - a.edges.length ||
    compareStrings(a.nodes.map((n) => n.key).join('\u0000'), b.nodes.map((n) => n.key).join('\u0000'))
  );
}

/** Canonical times bounding the injections an exclusion report counts (inclusive); null bounds nothing. */
export interface TimeWindow {
  from: string;
  to: string;
}

/**
 * Every exclusion in force for the graph's device (global ones and those scoped to it), in settings order, with how many injection events into the given processes (inside
 * `window`, when given) it held back: what an analyst needs to see that a path is shorter or an alert quiet because
 * of an exclusion. An injection matching several exclusions counts for the first, as the rule applies them.
 */
export function exclusionReport(
  graph: DeviceGraph,
  settings: AdwsRuleSettings,
  processKeys: string[],
  window: TimeWindow | null = null,
): ExclusionReport[] {
  // Exclusions scoped to other devices were not considered here, so adding one leaves this alert unchanged.
  const deviceId = graph.getAttribute('deviceId');
  const inScope = settings.exclusions.filter((e) => deviceMatches(e, deviceId));
  const counts = new Map(inScope.map((e) => [e, 0]));
  for (const key of new Set(processKeys)) {
    const target = exclusionTargetOf(graph, key);
    graph.forEachInEdge(key, (_edgeKey, edge) => {
      if (edge.kind !== EdgeKind.Injected) return;
      for (const occurrence of edge.occurrences) {
        if (window !== null && (occurrence.timestamp < window.from || occurrence.timestamp > window.to)) continue;
        countExclusion(occurrence, settings, target, counts);
      }
    });
  }

  return inScope.map((e) => ({ description: e.description, excludedEvents: counts.get(e)! }));
}

function countExclusion(
  occurrence: InjectionOccurrence,
  settings: AdwsRuleSettings,
  target: ReturnType<typeof exclusionTargetOf>,
  counts: Map<InjectorExclusion, number>,
): void {
  const { injectorFileName, injectorFolderPath } = occurrence;
  const exclusion = matchingExclusion(injectorFileName || null, injectorFolderPath, settings.exclusions, target);
  if (exclusion !== null && counts.has(exclusion)) counts.set(exclusion, counts.get(exclusion)! + 1);
}

/** What the evidence of a path lacks: processes whose creation was never seen, processes never named. */
export function evidenceGaps(path: AlertPath): string[] {
  const gaps: string[] = [];
  const processes = path.nodes.filter((n) => n.kind === NodeKind.Process);
  const first = processes[0];
  const last = processes[processes.length - 1];
  for (const node of processes) {
    const role =
      node === first ? 'the first injector' : node === last ? 'the connecting process' : 'a process on the path';
    const named = node.fileName ? `${node.fileName} (${node.processId})` : `process ${node.processId}`;
    if (!node.fileName) gaps.push(`${role}, process ${node.processId}, was never named by an event`);
    if (!node.creationTime && (node === first || node === last)) {
      gaps.push(`${role}, ${named}: its process creation was never seen`);
    }
  }

  return gaps;
}
