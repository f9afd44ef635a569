import { ADWS_RULE_ID, type AdwsRuleSettings } from '../rules/rule.types.js';
import {
  EdgeKind,
  NodeKind,
  type ConnectionOccurrence,
  type EvidenceRef,
  type InjectionOccurrence,
  type ProcessNodeAttributes,
  type SpawnOccurrence,
} from '../vocabulary/graph.vocabulary.js';
import {
  comparePaths,
  evidenceGaps,
  exclusionReport,
  pathEdge,
  pathNode,
  type TimeWindow,
} from './alert.explanation.js';
import type { AlertCandidate, AlertPath, ConnectionSummary, InjectorSummary } from './alert.types.js';
import { splitDeviceName } from './device-name.js';
import { evidenceId } from './event.filters.js';
import {
  minutesToTicks,
  parseEventTime,
  secondsToTicks,
  shiftTime,
  ticksBetween,
  type EventInstant,
} from './event.time.js';
import type { DeviceGraph } from './graph.builder.js';
import { exclusionTargetOf, isExcluded } from './path.finder.js';
import { compareEvidence, compareNumbers, compareOccurrences, compareStrings, sortedDistinct } from './sort.order.js';

/** One hop of a chain, walked backwards from the connecting process: an injection or a spawn. */
interface Hop {
  edgeKey: string;
  kind: typeof EdgeKind.Injected | typeof EdgeKind.Spawned;
  source: string;
  target: string;
  /** Occurrences that may count: injections not excluded, every spawn. */
  occurrences: Timed<InjectionOccurrence | SpawnOccurrence>[];
}

interface Timed<O> {
  occurrence: O;
  at: EventInstant;
}

/** A chain that satisfies the time rules, with the occurrences that do on every hop. */
interface ValidChain {
  hops: Hop[];
  evidence: (InjectionOccurrence | SpawnOccurrence)[][];
  connections: ConnectionOccurrence[];
}

interface Search {
  graph: DeviceGraph;
  settings: AdwsRuleSettings;
  skewTicks: number;
  spanTicks: number;
  /** The connecting process's ADWS connections, time-sorted, with the `connected` edges they sit on. */
  connections: Timed<ConnectionOccurrence>[];
  connectedEdges: Map<ConnectionOccurrence, string>;
  /** Hops left to explore for this connecting process (see MAX_HOPS_EXPLORED). */
  budget: number;
  /** The hops into each node met so far: they depend only on the graph, the settings and the node. */
  hopsByNode: Map<string, Hop[]>;
}

/**
 * Hops explored per connecting process before the search stops, and paths kept per alert: processes that inject
 * one another all around would otherwise give a combinatorial number of chains. A cut search says so in the
 * alert's evidenceGaps.
 */
const MAX_HOPS_EXPLORED = 20_000;
const MAX_PATHS = 50;

/**
 * Graph mode: one candidate per process that connected to an ADWS port and is reached, backwards, over at most
 * `maxChainDepth` hops of `injected` edges (chains: A injects B, B injects C) and, when `followDescendants` is on,
 * `spawned` edges (the connecting process descends from an injected one). Time runs forwards along a chain: each
 * hop's evidence is no later than the next hop's (and the last no later than a connection) plus `clockSkewSeconds`,
 * and no earlier than `timeframeMinutes` before the connections. Only maximal chains are kept: a chain that a valid
 * longer one extends is part of it. Sorted by device, process id and name.
 */
export function detectGraphModeCandidates(graph: DeviceGraph, settings: AdwsRuleSettings): AlertCandidate[] {
  const candidates: AlertCandidate[] = [];
  for (const [processKey, connections] of adwsConnectionsByProcess(graph, settings)) {
    const search = newSearch(graph, settings, connections);
    const chains = chainsInto(search, processKey, [], new Set([processKey]));
    if (chains.length > 0) candidates.push(toCandidate(search, processKey, chains));
  }

  return candidates.sort(compareCandidates);
}

/** Every process with a `connected` edge to an endpoint on an ADWS port, with those edges' occurrences. */
function adwsConnectionsByProcess(
  graph: DeviceGraph,
  settings: AdwsRuleSettings,
): Map<string, { edgeKey: string; occurrence: ConnectionOccurrence }[]> {
  const byProcess = new Map<string, { edgeKey: string; occurrence: ConnectionOccurrence }[]>();
  graph.forEachEdge((edgeKey, edge, source, target) => {
    if (edge.kind !== EdgeKind.Connected) return;
    const endpoint = graph.getNodeAttributes(target);
    if (endpoint.kind !== NodeKind.AdwsEndpoint || !settings.adwsPorts.includes(endpoint.remotePort)) return;

    const list = byProcess.get(source) ?? [];
    for (const occurrence of edge.occurrences) list.push({ edgeKey, occurrence });
    byProcess.set(source, list);
  });

  return new Map([...byProcess].sort(([a], [b]) => compareStrings(a, b)));
}

function newSearch(
  graph: DeviceGraph,
  settings: AdwsRuleSettings,
  connections: { edgeKey: string; occurrence: ConnectionOccurrence }[],
): Search {
  return {
    graph,
    settings,
    skewTicks: secondsToTicks(settings.clockSkewSeconds),
    spanTicks: minutesToTicks(settings.timeframeMinutes),
    connections: timed(connections.map((c) => c.occurrence)),
    connectedEdges: new Map(connections.map((c) => [c.occurrence, c.edgeKey])),
    budget: MAX_HOPS_EXPLORED,
    hopsByNode: new Map(),
  };
}

/**
 * Valid maximal chains ending at `node` followed by `suffix` (hops from `node` on to the connecting process).
 * Walks back over injected in-edges (each a chain start) and, for descendants, spawned in-edges.
 */
function chainsInto(search: Search, node: string, suffix: Hop[], visited: Set<string>): ValidChain[] {
  if (suffix.length >= search.settings.maxChainDepth) return [];

  const found: ValidChain[] = [];
  for (const hop of hopsInto(search, node)) {
    if (search.budget <= 0) break;
    const hops = [hop, ...suffix];
    const selfInjection = hop.source === hop.target;
    if (visited.has(hop.source) && !selfInjection) continue;

    const longer = selfInjection ? [] : chainsInto(search, hop.source, hops, new Set([...visited, hop.source]));
    found.push(...longer);
    const chain = hop.kind === EdgeKind.Injected ? validate(search, hops) : null;
    if (chain !== null && !coveredBy(chain, longer)) found.push(chain);
  }

  return found;
}

/**
 * A chain is only part of longer ones when they cite all of its evidence; otherwise it explains something they do
 * not (an earlier injection the longer chains' time order leaves out) and stays a path of its own.
 */
function coveredBy(chain: ValidChain, longer: ValidChain[]): boolean {
  if (longer.length === 0) return false;

  const cited = new Set(
    longer.flatMap((c) => [...c.evidence.flat(), ...c.connections].map((o) => evidenceId(o.evidence))),
  );
  return [...chain.evidence.flat(), ...chain.connections].every((o) => cited.has(evidenceId(o.evidence)));
}

/** The hops into `node`, worked out once per search; every visit still spends one hop of the budget. */
function hopsInto(search: Search, node: string): Hop[] {
  search.budget--;
  const known = search.hopsByNode.get(node);
  if (known) return known;

  const hops = hopsIntoUncached(search, node);
  search.hopsByNode.set(node, hops);
  return hops;
}

function hopsIntoUncached(search: Search, node: string): Hop[] {
  const hops: Hop[] = [];
  search.graph.forEachInEdge(node, (edgeKey, edge, source, target) => {
    if (edge.kind === EdgeKind.Injected) {
      const excluded = exclusionTargetOf(search.graph, target);
      const kept = edge.occurrences.filter((o) => !isExcluded(o, search.settings, excluded));
      if (kept.length > 0) hops.push({ edgeKey, kind: edge.kind, source, target, occurrences: timed(kept) });
    } else if (edge.kind === EdgeKind.Spawned && search.settings.followDescendants) {
      hops.push({ edgeKey, kind: edge.kind, source, target, occurrences: timed(edge.occurrences) });
    }
  });

  return hops.sort((a, b) => compareStrings(a.edgeKey, b.edgeKey));
}

/**
 * The occurrences of each hop that fit the time rules, or null when a hop has none. Backwards from the last hop:
 * a hop's occurrence counts when it is no later than the latest counting occurrence of the next hop (for the last
 * hop: the latest connection) plus the skew, and no earlier than the earliest connection minus the span.
 */
function validate(search: Search, hops: Hop[]): ValidChain | null {
  const { connections, skewTicks, spanTicks } = search;
  const earliest = connections[0]!.at;
  let latest = connections[connections.length - 1]!.at;
  const evidence: Timed<InjectionOccurrence | SpawnOccurrence>[][] = [];
  for (const hop of [...hops].reverse()) {
    const kept = hop.occurrences.filter(
      ({ at }) => ticksBetween(at, latest) >= -skewTicks && ticksBetween(earliest, at) >= -spanTicks,
    );
    if (kept.length === 0) return null;
    evidence.unshift(kept);
    latest = kept[kept.length - 1]!.at;
  }
  if (!runsForwards(evidence, skewTicks)) return null;

  const last = lastInjection(hops, evidence);
  const first = evidence[0]!;
  const matched = connections.filter(
    ({ at }) =>
      ticksBetween(last[0]!.at, at) >= -skewTicks && ticksBetween(first[first.length - 1]!.at, at) <= spanTicks,
  );
  if (matched.length === 0) return null;

  return {
    hops,
    evidence: evidence.map((list) => list.map((t) => t.occurrence)),
    connections: matched.map((c) => c.occurrence),
  };
}

/**
 * Forwards from the first hop: a hop's occurrence counts only when it is no earlier than the earliest counting
 * occurrence of the hop before it, less the skew (B can only inject C once A has injected B). False when a hop is
 * left with none.
 */
function runsForwards(evidence: Timed<InjectionOccurrence | SpawnOccurrence>[][], skewTicks: number): boolean {
  for (let i = 1; i < evidence.length; i++) {
    const earliest = evidence[i - 1]![0]!.at;
    evidence[i] = evidence[i]!.filter(({ at }) => ticksBetween(earliest, at) >= -skewTicks);
    if (evidence[i]!.length === 0) return false;
  }

  return true;
}

/** The counting occurrences of the chain's last injection hop (the hops after it are spawns). */
function lastInjection(hops: Hop[], evidence: Timed<InjectionOccurrence | SpawnOccurrence>[][]) {
  for (let i = hops.length - 1; i >= 0; i--) if (hops[i]!.kind === EdgeKind.Injected) return evidence[i]!;

  return evidence[0]!;
}

function toCandidate(search: Search, processKey: string, chains: ValidChain[]): AlertCandidate {
  const { graph, settings } = search;
  const target = processOf(graph, processKey);
  const connections = distinct(chains.flatMap((c) => c.connections)).sort(compareOccurrences);
  const injections = chains.flatMap((c) =>
    c.hops.flatMap((hop, i) => (hop.kind === EdgeKind.Injected ? c.evidence[i]! : [])),
  );
  const allPaths = chains.map((chain) => explainChain(search, chain)).sort(comparePaths);
  const paths = allPaths.slice(0, MAX_PATHS);
  const cut = cutNotes(search, allPaths.length);
  const evidence = distinctRefs([
    ...chains.flatMap((c) => c.evidence.flat().map((o) => o.evidence)),
    ...connections.map((o) => o.evidence),
  ]);
  const deviceName = connections[0]!.deviceName ?? '';

  return {
    ruleId: ADWS_RULE_ID,
    deviceId: graph.getAttribute('deviceId'),
    deviceName,
    ...splitDeviceName(deviceName),
    timestamp: connections[0]!.timestamp,
    processId: target.processId,
    fileName: target.fileName,
    injectionMethods: sortedDistinct((injections as InjectionOccurrence[]).map((o) => o.actionType)),
    injectors: injectorSummaries(graph, chains),
    connections: connections.map(connectionSummary),
    evidence,
    nodeKeys: sortedDistinct(allPaths.flatMap((p) => p.nodes.map((n) => n.key))),
    mode: 'graph',
    processKey,
    path: paths[0]!,
    paths,
    viaDescendant: paths.every((p) => p.viaDescendant),
    evidenceGaps: [...sortedDistinct(paths.flatMap(evidenceGaps)), ...cut],
    exclusionsConsidered: exclusionReport(
      graph,
      settings,
      allPaths.flatMap((p) => p.nodes.filter((n) => n.kind === NodeKind.Process).map((n) => n.key)),
      exclusionWindow(search),
    ),
  };
}

/** The injections an exclusion could have kept from this alert: within the span before its connections. */
function exclusionWindow(search: Search): TimeWindow {
  const first = search.connections[0]!.occurrence.timestamp;
  const last = search.connections[search.connections.length - 1]!.occurrence.timestamp;

  return { from: shiftTime(first, -search.spanTicks), to: shiftTime(last, search.skewTicks) };
}

function cutNotes(search: Search, pathCount: number): string[] {
  const notes: string[] = [];
  if (search.budget <= 0) notes.push(`the path search stopped after ${MAX_HOPS_EXPLORED} hops; more paths may exist`);
  if (pathCount > MAX_PATHS) notes.push(`${pathCount} paths lead here; the first ${MAX_PATHS} are listed`);

  return notes;
}

function explainChain(search: Search, chain: ValidChain): AlertPath {
  const { graph } = search;
  const byEdge = new Map<string, ConnectionOccurrence[]>();
  for (const occurrence of chain.connections) {
    const key = search.connectedEdges.get(occurrence)!;
    byEdge.set(key, [...(byEdge.get(key) ?? []), occurrence]);
  }
  const [connectedKey, connected] = [...byEdge].sort(([a], [b]) => compareStrings(a, b))[0]!;
  const nodeKeys = [chain.hops[0]!.source, ...chain.hops.map((h) => h.target), graph.target(connectedKey)];
  const edges = [
    ...chain.hops.map((hop, i) => pathEdge(graph, hop.edgeKey, chain.evidence[i]!)),
    pathEdge(graph, connectedKey, connected),
  ];
  const lastInjected = chain.hops.map((h) => h.kind).lastIndexOf(EdgeKind.Injected);

  return {
    nodes: nodeKeys.map((key) => pathNode(graph, key)),
    edges,
    viaDescendant: lastInjected < chain.hops.length - 1,
  };
}

/** Every process that injected along a chain, with the injections of its that count. */
function injectorSummaries(graph: DeviceGraph, chains: ValidChain[]): InjectorSummary[] {
  const byInjector = new Map<string, InjectionOccurrence[]>();
  for (const chain of chains) {
    chain.hops.forEach((hop, i) => {
      if (hop.kind !== EdgeKind.Injected) return;
      const list = byInjector.get(hop.source) ?? [];
      byInjector.set(hop.source, [...list, ...(chain.evidence[i] as InjectionOccurrence[])]);
    });
  }

  return [...byInjector]
    .map(([key, occurrences]) => injectorSummary(graph, key, distinct(occurrences).sort(compareOccurrences)))
    .sort((a, b) => compareNumbers(a.processId, b.processId) || compareStrings(a.fileName, b.fileName));
}

function injectorSummary(graph: DeviceGraph, key: string, occurrences: InjectionOccurrence[]): InjectorSummary {
  return {
    processId: processOf(graph, key).processId,
    fileName: occurrences[0]!.injectorFileName,
    folderPath: occurrences.find((o) => o.injectorFolderPath !== null)?.injectorFolderPath ?? null,
    actionTypes: sortedDistinct(occurrences.map((o) => o.actionType)),
    firstSeen: occurrences[0]!.timestamp,
    lastSeen: occurrences[occurrences.length - 1]!.timestamp,
  };
}

function connectionSummary(occurrence: ConnectionOccurrence): ConnectionSummary {
  const { timestamp, remoteIp, remotePort, localIp, localPort } = occurrence;

  return { timestamp, remoteIp, remotePort, localIp, localPort };
}

function processOf(graph: DeviceGraph, key: string): ProcessNodeAttributes {
  const node = graph.getNodeAttributes(key);
  if (node.kind !== NodeKind.Process) throw new Error(`node ${key} is not a process`);

  return node;
}

function timed<O extends { timestamp: string; evidence: EvidenceRef }>(occurrences: readonly O[]): Timed<O>[] {
  return occurrences
    .map((occurrence) => ({ occurrence, at: parseEventTime(occurrence.timestamp) }))
    .sort((a, b) => ticksBetween(b.at, a.at) || compareOccurrences(a.occurrence, b.occurrence));
}

function distinct<T>(items: T[]): T[] {
  return [...new Set(items)];
}

function distinctRefs(refs: EvidenceRef[]): EvidenceRef[] {
  return [...new Map(refs.map((r) => [evidenceId(r), r])).values()].sort(compareEvidence);
}

function compareCandidates(a: AlertCandidate, b: AlertCandidate): number {
  return (
    compareStrings(a.deviceId, b.deviceId) ||
    compareNumbers(a.processId, b.processId) ||
    compareStrings(a.fileName, b.fileName) ||
    compareStrings(a.processKey ?? '', b.processKey ?? '')
  );
}
