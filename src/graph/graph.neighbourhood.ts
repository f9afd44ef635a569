import { MultiDirectedGraph } from 'graphology';

import type { DeviceGraph } from '../detection/graph.builder.js';
import { compareStrings } from '../detection/sort.order.js';
import {
  EdgeKind,
  type EdgeAttributes,
  type GraphAttributes,
  type NodeAttributes,
} from '../vocabulary/graph.vocabulary.js';
import { eventCount, type GraphCounts } from './graph.attributes.js';

/** A bounded part of a graph, whether a limit cut it, and the counts behind that. */
export interface GraphPart {
  graph: DeviceGraph;
  truncated: boolean;
  counts: GraphCounts;
}

/**
 * The part of a graph within `depth` hops of the start nodes, following edges either way, breadth first: the starts
 * (by key), then each hop's new nodes by key; at most `limit` nodes in that order, so nearer nodes win. Every edge
 * between two drawn nodes is kept whole. Without a depth every node is reachable; without a limit all are drawn.
 * `truncated` says the limit cut nodes out.
 */
export function nearby(graph: DeviceGraph, starts: readonly string[], depth?: number, limit?: number): GraphPart {
  const reached = depth === undefined ? graph.nodes() : reachable(graph, starts, depth);
  const all = inducedSubgraph(graph, new Set(reached));
  const truncated = limit !== undefined && limit < reached.length;
  const part = truncated ? inducedSubgraph(graph, new Set(reached.slice(0, limit))) : all;
  const counts = {
    reachableNodes: all.order,
    shownNodes: part.order,
    reachableEvents: eventCount(all),
    shownEvents: eventCount(part),
  };

  return { graph: part, truncated, counts };
}

/** The whole graph as a part: nothing cut. */
export function whole(graph: DeviceGraph): GraphPart {
  return nearby(graph, []);
}

/**
 * What a device graph is drawn around when a depth is asked for: the processes and endpoints of its injections and
 * ADWS connections, the half of the graph the rule reads. Process accesses and creations are the context around them.
 */
export function injectionAndConnectionNodes(graph: DeviceGraph): string[] {
  const nodes = new Set<string>();
  graph.forEachEdge((_key, attributes, source, target) => {
    if (attributes.kind !== EdgeKind.Injected && attributes.kind !== EdgeKind.Connected) return;

    nodes.add(source);
    nodes.add(target);
  });

  return [...nodes];
}

/** The nodes and the edges between them, nodes in key order and edges in the graph's order. */
function inducedSubgraph(graph: DeviceGraph, nodes: Set<string>): DeviceGraph {
  const part: DeviceGraph = new MultiDirectedGraph<NodeAttributes, EdgeAttributes, GraphAttributes>();
  part.replaceAttributes({ ...graph.getAttributes() });

  for (const key of [...nodes].sort(compareStrings)) part.addNode(key, { ...graph.getNodeAttributes(key) });
  graph.forEachEdge((key, attributes, source, target) => {
    if (nodes.has(source) && nodes.has(target)) part.addDirectedEdgeWithKey(key, source, target, attributes);
  });

  return part;
}

/** Nodes within `depth` hops of the starts, breadth first, ties by key; starts the graph lacks are skipped. */
function reachable(graph: DeviceGraph, starts: readonly string[], depth: number): string[] {
  let frontier = [...new Set(starts)].filter((key) => graph.hasNode(key)).sort(compareStrings);
  const order = [...frontier];
  const seen = new Set(order);
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
