import { MultiDirectedGraph } from 'graphology';

import { InvalidInputError } from '../common/domain.errors.js';
import { occurrencesWhere, type DeviceGraph } from '../detection/graph.builder.js';
import { canonicalTimestamp } from '../ingest/mappers/normalize.js';
import { type EdgeAttributes, type GraphAttributes, type NodeAttributes } from '../vocabulary/graph.vocabulary.js';

/** A closed time window in canonical timestamp text (which orders as strings); either end may be open. */
export interface TimeWindow {
  from?: string;
  to?: string;
}

/**
 * `from` and `to` of a graph query as a window: any ISO 8601 form the ingest accepts (offsets, 0 to 7 fraction
 * digits), in canonical form. A bad value or `from` later than `to` is an InvalidInputError naming the field.
 */
export function timeWindow(query: { from?: string; to?: string }): TimeWindow {
  const from = query.from === undefined ? undefined : canonicalTimestamp(query.from, 'from');
  const to = query.to === undefined ? undefined : canonicalTimestamp(query.to, 'to');
  if (from !== undefined && to !== undefined && from > to) {
    throw new InvalidInputError('from is later than to', { field: 'from', from, to });
  }

  return { from, to };
}

export function isOpen(window: TimeWindow): boolean {
  return window.from === undefined && window.to === undefined;
}

export function inWindow(timestamp: string, window: TimeWindow): boolean {
  return (window.from === undefined || timestamp >= window.from) && (window.to === undefined || timestamp <= window.to);
}

/**
 * The graph as the events within the window draw it: every edge keeps only its occurrences in the window (count,
 * first and last seen and the lists recomputed) and goes when none is left; a node goes when all its edges went.
 * A node that had no edge at all stays when its first to last sighting overlaps the window. Node attributes still
 * describe every event read (names, paths, first and last seen): they say who the process is, not what it did when.
 */
export function withinWindow(graph: DeviceGraph, window: TimeWindow): DeviceGraph {
  if (isOpen(window)) return graph;

  const part: DeviceGraph = new MultiDirectedGraph<NodeAttributes, EdgeAttributes, GraphAttributes>();
  part.replaceAttributes({ ...graph.getAttributes() });
  const kept = keptEdges(graph, window);
  graph.forEachNode((key, attributes) => {
    if (touches(graph, key, kept) || (graph.degree(key) === 0 && overlaps(attributes, window))) {
      part.addNode(key, { ...attributes });
    }
  });
  for (const [key, attributes] of kept) {
    part.addDirectedEdgeWithKey(key, graph.source(key), graph.target(key), attributes);
  }

  return part;
}

/** Edges with at least one occurrence in the window, in the graph's edge order, with only those occurrences. */
function keptEdges(graph: DeviceGraph, window: TimeWindow): Map<string, EdgeAttributes> {
  const kept = new Map<string, EdgeAttributes>();
  graph.forEachEdge((key, attributes) => {
    const inside = occurrencesWhere(attributes, (o) => inWindow(o.timestamp, window));
    if (inside) kept.set(key, inside);
  });

  return kept;
}

function touches(graph: DeviceGraph, node: string, kept: Map<string, EdgeAttributes>): boolean {
  return graph.someEdge(node, (key) => kept.has(key));
}

function overlaps(attributes: NodeAttributes, window: TimeWindow): boolean {
  return (
    (window.from === undefined || attributes.lastSeen >= window.from) &&
    (window.to === undefined || attributes.firstSeen <= window.to)
  );
}
