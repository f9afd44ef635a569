import type { AdwsRuleSettings } from '../rules/rule.types.js';
import {
  EdgeKind,
  NodeKind,
  type ConnectedEdgeAttributes,
  type ConnectionOccurrence,
  type InjectedEdgeAttributes,
  type InjectionOccurrence,
} from '../vocabulary/graph.vocabulary.js';
import { parseEventTime, minutesToTicks, ticksBetween, type EventInstant } from './event.time.js';
import { matchingExclusion, type ExclusionTarget } from './exclusion.matcher.js';
import type { DeviceGraph } from './graph.builder.js';
import { compareStrings } from './sort.order.js';

/**
 * One injector → target → ADWS endpoint path with the occurrences that make it evidence: injections
 * not excluded that lie within the timeframe of at least one of the path's connections, and those
 * connections. Connections are split by the DeviceName they carry, because alerts group by it.
 */
export interface InjectionPath {
  deviceId: string;
  /** DeviceName of the path's connections; null is "". */
  deviceName: string;
  injectorKey: string;
  targetKey: string;
  endpointKey: string;
  /** Injector, target, endpoint (injector and target are the same key for a self-injection). */
  nodeKeys: [string, string, string];
  /** The `injected` edge, then the `connected` edge. */
  edgeKeys: [string, string];
  /** Matched occurrences, in time order (edge order: time, then evidence, for canonical timestamps). */
  injections: InjectionOccurrence[];
  connections: ConnectionOccurrence[];
}

interface PathSearch {
  graph: DeviceGraph;
  settings: AdwsRuleSettings;
  windowTicks: number;
  instantOf: (timestamp: string) => EventInstant;
  /** Non-excluded injections per `injected` edge, time-sorted: each edge is read once per search. */
  evidenceByEdge: Map<string, Timed<InjectionOccurrence>[]>;
}

/** An occurrence with its parsed time; `index` (its position on the edge) breaks ties. */
interface Timed<O> {
  occurrence: O;
  at: EventInstant;
  index: number;
}

interface PathKeys {
  injectorKey: string;
  targetKey: string;
  endpointKey: string;
  injectedKey: string;
  connectedKey: string;
}

/**
 * Walks the graph backwards from every ADWS endpoint on a configured port: over `connected` in-edges
 * to the connecting process, then over `injected` in-edges to its injectors. Keeps a path when some
 * non-excluded injection and some connection on it are within the timeframe of each other, either order.
 */
export function findInjectionPaths(graph: DeviceGraph, settings: AdwsRuleSettings): InjectionPath[] {
  const search: PathSearch = {
    graph,
    settings,
    windowTicks: minutesToTicks(settings.timeframeMinutes),
    instantOf: memoised(parseEventTime),
    evidenceByEdge: new Map(),
  };
  const paths: InjectionPath[] = [];

  graph.forEachNode((endpointKey, endpoint) => {
    if (endpoint.kind !== NodeKind.AdwsEndpoint || !settings.adwsPorts.includes(endpoint.remotePort)) return;
    graph.forEachInEdge(endpointKey, (connectedKey, connected, targetKey) => {
      if (connected.kind !== EdgeKind.Connected) return;
      const partial = { targetKey, endpointKey, connectedKey };
      paths.push(...pathsIntoConnection(search, partial, timedByDeviceName(connected, search.instantOf)));
    });
  });

  return paths;
}

/** Every injector of the connecting process, each paired with the connections of every DeviceName. */
function pathsIntoConnection(
  search: PathSearch,
  partial: Omit<PathKeys, 'injectorKey' | 'injectedKey'>,
  byDeviceName: [string, Timed<ConnectionOccurrence>[]][],
): InjectionPath[] {
  const paths: InjectionPath[] = [];
  search.graph.forEachInEdge(partial.targetKey, (injectedKey, injected, injectorKey) => {
    if (injected.kind !== EdgeKind.Injected) return;
    const injections = evidenceOf(search, injectedKey, injected, partial.targetKey);
    if (injections.length === 0) return;

    const keys = { ...partial, injectorKey, injectedKey };
    for (const [deviceName, connections] of byDeviceName) {
      const matched = matchWithinWindow(injections, connections, search.windowTicks);
      if (matched) paths.push(toPath(search.graph.getAttribute('deviceId'), deviceName, keys, matched));
    }
  });

  return paths;
}

function evidenceOf(
  search: PathSearch,
  key: string,
  edge: InjectedEdgeAttributes,
  targetKey: string,
): Timed<InjectionOccurrence>[] {
  const known = search.evidenceByEdge.get(key);
  if (known) return known;

  const target = exclusionTargetOf(search.graph, targetKey);
  const evidence = timed(
    edge.occurrences.filter((o) => !isExcluded(o, search.settings, target)),
    search.instantOf,
  );
  search.evidenceByEdge.set(key, evidence);

  return evidence;
}

export function isExcluded(
  occurrence: InjectionOccurrence,
  settings: AdwsRuleSettings,
  target: ExclusionTarget,
): boolean {
  const { injectorFileName, injectorFolderPath } = occurrence;

  return matchingExclusion(injectorFileName || null, injectorFolderPath, settings.exclusions, target) !== null;
}

/** The injected process's name and the graph's device, for exclusions that name them. */
export function exclusionTargetOf(graph: DeviceGraph, targetKey: string): ExclusionTarget {
  const target = graph.getNodeAttributes(targetKey);
  const fileName = target.kind === NodeKind.Process && target.fileName ? target.fileName : null;

  return { fileName, deviceId: graph.getAttribute('deviceId') };
}

/** The edge's connections split by DeviceName (null is ""), names sorted, each group time-sorted. */
function timedByDeviceName(
  edge: ConnectedEdgeAttributes,
  instantOf: PathSearch['instantOf'],
): [string, Timed<ConnectionOccurrence>[]][] {
  const groups = new Map<string, ConnectionOccurrence[]>();
  for (const occurrence of edge.occurrences) {
    const name = occurrence.deviceName ?? '';
    const group = groups.get(name);
    if (group) group.push(occurrence);
    else groups.set(name, [occurrence]);
  }

  return [...groups.keys()].sort(compareStrings).map((name) => [name, timed(groups.get(name)!, instantOf)]);
}

/**
 * The injections with a connection in the window and the connections with an injection in it, both
 * in time order; null if none. Injections are time-sorted, so their windows' bounds only move forward.
 */
function matchWithinWindow(
  injections: Timed<InjectionOccurrence>[],
  connections: Timed<ConnectionOccurrence>[],
  windowTicks: number,
): { injections: InjectionOccurrence[]; connections: ConnectionOccurrence[] } | null {
  const matched = { injections: [] as InjectionOccurrence[], connections: [] as ConnectionOccurrence[] };
  let next = 0;
  for (const { occurrence, at } of injections) {
    const low = firstIndex(connections, (c) => ticksBetween(at, c.at) >= -windowTicks);
    const high = firstIndex(connections, (c) => ticksBetween(at, c.at) > windowTicks);
    if (low >= high) continue;

    matched.injections.push(occurrence);
    for (let i = Math.max(next, low); i < high; i++) matched.connections.push(connections[i]!.occurrence);
    next = Math.max(next, high);
  }

  return matched.injections.length > 0 ? matched : null;
}

/** First index whose item satisfies `reached` (false then true along the sorted items), or the length. */
function firstIndex<T>(sorted: readonly T[], reached: (item: T) => boolean): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (reached(sorted[middle]!)) high = middle;
    else low = middle + 1;
  }

  return low;
}

function timed<O extends { timestamp: string }>(
  occurrences: readonly O[],
  instantOf: PathSearch['instantOf'],
): Timed<O>[] {
  const items = occurrences.map((occurrence, index) => ({ occurrence, at: instantOf(occurrence.timestamp), index }));

  return items.sort((a, b) => ticksBetween(b.at, a.at) || a.index - b.index);
}

function toPath(
  deviceId: string,
  deviceName: string,
  keys: PathKeys,
  matched: { injections: InjectionOccurrence[]; connections: ConnectionOccurrence[] },
): InjectionPath {
  const { injectorKey, targetKey, endpointKey, injectedKey, connectedKey } = keys;

  return {
    deviceId,
    deviceName,
    injectorKey,
    targetKey,
    endpointKey,
    nodeKeys: [injectorKey, targetKey, endpointKey],
    edgeKeys: [injectedKey, connectedKey],
    ...matched,
  };
}

function memoised<R>(parse: (value: string) => R): (value: string) => R {
  const cache = new Map<string, R>();

  return (value) => {
    const known = cache.get(value);
    if (known !== undefined) return known;

    const parsed = parse(value);
    cache.set(value, parsed);
    return parsed;
  };
}
