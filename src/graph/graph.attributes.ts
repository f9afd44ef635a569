import type { MultiDirectedGraph } from 'graphology';

import type { DeviceGraph } from '../detection/graph.builder.js';
import { evidenceId } from '../detection/event.filters.js';
import type { EdgeAttributes, GraphAttributes, NodeAttributes } from '../vocabulary/graph.vocabulary.js';

/**
 * How much of a graph a reply shows. "Reachable" is what the depth bound (and the time window) let in from the events
 * read, before the node limit; "shown" is what is drawn. Events are the distinct stored events behind the edges.
 */
export interface GraphCounts {
  reachableNodes: number;
  shownNodes: number;
  reachableEvents: number;
  shownEvents: number;
}

/**
 * The graph attributes of every served graph (device, process neighbourhood, alert), in every export format:
 * `truncated` says a limit cut nodes or events out, `counts` how much, and the bounds asked for are repeated so
 * an exported file still says what it shows.
 */
export interface ServedGraphAttributes extends GraphAttributes {
  truncated: boolean;
  counts: GraphCounts;
  /** Set on a process neighbourhood: the process it is drawn around. */
  processKey?: string;
  depth?: number;
  from?: string;
  to?: string;
}

export type ServedGraph = MultiDirectedGraph<NodeAttributes, EdgeAttributes, ServedGraphAttributes>;

/** The bounds and flags a served graph carries besides its device (and alert or process). */
export type GraphBounds = Omit<ServedGraphAttributes, 'deviceId' | 'alertId' | 'counts'>;

/** Distinct stored events behind the edges of a graph. */
export function eventCount(graph: DeviceGraph | ServedGraph): number {
  const ids = new Set<string>();
  graph.forEachEdge((_key, attributes) => {
    for (const occurrence of attributes.occurrences) ids.add(evidenceId(occurrence.evidence));
  });

  return ids.size;
}

/**
 * The graph's attributes replaced by its device (and alert), the bounds and the counts. It takes the graph over
 * rather than copying it (callers pass a part they built): graphology fixes attribute types when a graph is made,
 * and the attributes are replaced whole here, so only the type changes.
 */
export function served(graph: DeviceGraph, bounds: GraphBounds, counts: GraphCounts): ServedGraph {
  const { deviceId, alertId } = graph.getAttributes();
  const out = graph as unknown as ServedGraph;
  out.replaceAttributes(withoutUndefined({ deviceId, alertId, ...bounds, counts }));

  return out;
}

function withoutUndefined<T extends object>(record: T): T {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined)) as T;
}
