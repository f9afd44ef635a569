import { MultiDirectedGraph } from 'graphology';

import type { DeviceGraph } from '../detection/graph.builder.js';
import { compareStrings } from '../detection/sort.order.js';
import type { EdgeAttributes, GraphAttributes, NodeAttributes } from '../vocabulary/graph.vocabulary.js';

export interface NeighbourhoodCounts {
  /** Nodes within `depth` hops of the process, and how many of them are drawn. */
  reachableNodes: number;
  shownNodes: number;
}

/**
 * The part of a device graph within `depth` hops of one node, following edges either way, breadth first (nearer
 * nodes first, then by key), at most `limit` nodes, with every edge between the nodes kept. The returned graph says
 * `truncated` when the limit cut nodes out, with the counts.
 */
export function neighbourhood(
  graph: DeviceGraph,
  start: string,
  depth: number,
  limit: number,
): { graph: DeviceGraph; counts: NeighbourhoodCounts } {
  const reached = reachable(graph, start, depth);
  const shown = new Set(reached.slice(0, limit));
  const part: DeviceGraph = new MultiDirectedGraph<NodeAttributes, EdgeAttributes, GraphAttributes>();
  part.replaceAttributes({ ...graph.getAttributes(), truncated: reached.length > shown.size });

  for (const key of [...shown].sort(compareStrings)) part.addNode(key, { ...graph.getNodeAttributes(key) });
  graph.forEachEdge((key, attributes, source, target) => {
    if (shown.has(source) && shown.has(target)) part.addDirectedEdgeWithKey(key, source, target, attributes);
  });

  return { graph: part, counts: { reachableNodes: reached.length, shownNodes: shown.size } };
}

/** Nodes within `depth` hops, in breadth-first order, ties by key. */
function reachable(graph: DeviceGraph, start: string, depth: number): string[] {
  const order = [start];
  const seen = new Set(order);
  let frontier = [start];
  for (let hop = 0; hop < depth && frontier.length > 0; hop++) {
    const next = new Set<string>();
    for (const node of frontier) {
      graph.forEachNeighbor(node, (neighbour) => {
        if (!seen.has(neighbour)) next.add(neighbour);
      });
    }
    frontier = [...next].sort(compareStrings);
    for (const node of frontier) seen.add(node);
    order.push(...frontier);
  }

  return order;
}
