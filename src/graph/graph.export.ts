import { write as writeGexf } from 'graphology-gexf';
import type { MultiDirectedGraph } from 'graphology';

import { InvalidInputError } from '../common/domain.errors.js';
import type { DeviceGraph } from '../detection/graph.builder.js';
import { EdgeKind, NodeKind, type EdgeAttributes, type NodeAttributes } from '../vocabulary/graph.vocabulary.js';

export const GRAPH_EXPORT_FORMATS = ['json', 'cytoscape', 'gexf'] as const;
export type GraphExportFormat = (typeof GRAPH_EXPORT_FORMATS)[number];

export interface GraphExport {
  contentType: string;
  /** An object to send as JSON, or the GEXF document. */
  body: unknown | string;
}

type FlatValue = string | number | boolean;

/**
 * A device graph in one of three shapes: `json` is graphology's serialised form (`graph.export()`),
 * `cytoscape` the Cytoscape.js elements JSON with readable labels, `gexf` a GEXF 1.3 document for
 * Gephi, where list and object attributes are written as JSON strings.
 */
export function exportGraph(graph: DeviceGraph, format: GraphExportFormat): GraphExport {
  switch (format) {
    case 'json':
      return { contentType: 'application/json', body: graph.export() };
    case 'cytoscape':
      return { contentType: 'application/json', body: toCytoscape(graph) };
    case 'gexf':
      return { contentType: 'application/gexf+xml', body: toGexf(graph) };
    default:
      throw new InvalidInputError('unknown graph export format', { format, formats: GRAPH_EXPORT_FORMATS });
  }
}

function toCytoscape(graph: DeviceGraph) {
  const nodes = graph.mapNodes((id, attributes) => ({
    data: { id, label: nodeLabel(attributes), ...attributes },
  }));
  const edges = graph.mapEdges((id, attributes, source, target) => ({
    data: { id, source, target, label: edgeLabel(attributes), ...attributes },
  }));

  return { elements: { nodes, edges } };
}

/** GEXF's <meta> takes only creator, description and keywords; graph attributes go into the description. */
function toGexf(graph: DeviceGraph): string {
  const { deviceId, alertId, truncated } = graph.getAttributes();
  const about = alertId ? `paths behind alert ${alertId} on device ${deviceId}` : `process graph of device ${deviceId}`;
  const meta = graph.copy() as unknown as MultiDirectedGraph<NodeAttributes, EdgeAttributes, Record<string, string>>;
  meta.replaceAttributes({ creator: 'adws-injection-graph', description: truncated ? `${about} (truncated)` : about });

  return writeGexf(meta, {
    version: '1.3',
    formatNode: (_key, attributes) => ({ label: nodeLabel(attributes), attributes: flatten(attributes) }),
    formatEdge: (_key, attributes) => ({ label: edgeLabel(attributes), attributes: flatten(attributes) }),
  });
}

/** "notepad.exe (2580)" or "10.0.0.5:9389". */
export function nodeLabel(attributes: NodeAttributes): string {
  if (attributes.kind === NodeKind.AdwsEndpoint) {
    const host = attributes.remoteIp.includes(':') ? `[${attributes.remoteIp}]` : attributes.remoteIp;
    return `${host}:${attributes.remotePort}`;
  }

  const name = attributes.observedNames[0] ?? (attributes.fileName || '(unnamed)');

  return `${name} (${attributes.processId})`;
}

/** "injected: CreateRemoteThreadApiCall x3" or "connected x2". */
export function edgeLabel(attributes: EdgeAttributes): string {
  if (attributes.kind === EdgeKind.Injected) {
    return `${attributes.kind}: ${attributes.actionTypes.join(', ')} x${attributes.count}`;
  }

  return `${attributes.kind} x${attributes.count}`;
}

/** Scalars kept, null dropped, lists and objects as JSON strings: GEXF attributes are scalars. */
function flatten(attributes: object): Record<string, FlatValue> {
  const flat: Record<string, FlatValue> = {};
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined) continue;
    flat[name] = typeof value === 'object' ? JSON.stringify(value) : (value as FlatValue);
  }

  return flat;
}
