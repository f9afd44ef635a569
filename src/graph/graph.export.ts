import { write as writeGexf } from 'graphology-gexf';
import type { MultiDirectedGraph } from 'graphology';

import { InvalidInputError } from '../common/domain.errors.js';
import type { DeviceGraph } from '../detection/graph.builder.js';
import { EdgeKind, NodeKind, type EdgeAttributes, type NodeAttributes } from '../vocabulary/graph.vocabulary.js';

export const GRAPH_EXPORT_FORMATS = ['json', 'cytoscape', 'gexf', 'graphml'] as const;
export type GraphExportFormat = (typeof GRAPH_EXPORT_FORMATS)[number];

export interface GraphExport {
  contentType: string;
  /** An object to send as JSON, or the GEXF document. */
  body: unknown | string;
}

type FlatValue = string | number | boolean;

/**
 * A device graph in one of four shapes: `json` is graphology's serialised form (`graph.export()`),
 * `cytoscape` the Cytoscape.js elements JSON with readable labels, `gexf` a GEXF 1.3 document for
 * Gephi and `graphml` a GraphML document (Cytoscape desktop, Gephi, yEd), where list and object
 * attributes are written as JSON strings.
 */
export function exportGraph(graph: DeviceGraph, format: GraphExportFormat): GraphExport {
  switch (format) {
    case 'json':
      return { contentType: 'application/json', body: graph.export() };
    case 'cytoscape':
      return { contentType: 'application/json', body: toCytoscape(graph) };
    case 'gexf':
      return { contentType: 'application/gexf+xml', body: toGexf(graph) };
    case 'graphml':
      return { contentType: 'application/graphml+xml', body: toGraphml(graph) };
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

/**
 * GraphML for Cytoscape desktop, Gephi and yEd: one <key> per attribute name (node keys `n_`, edge keys `e_`),
 * typed boolean, long, double or string; lists and objects as JSON strings, as in GEXF.
 */
function toGraphml(graph: DeviceGraph): string {
  const nodes = graph.mapNodes((id, attributes) => ({
    id,
    data: { label: nodeLabel(attributes), ...flatten(attributes) },
  }));
  const edges = graph.mapEdges((id, attributes, source, target) => ({
    id,
    source,
    target,
    data: { label: edgeLabel(attributes), ...flatten(attributes) },
  }));
  const nodeKeys = keysOf(nodes.map((n) => n.data));
  const edgeKeys = keysOf(edges.map((e) => e.data));
  const { deviceId, alertId, truncated } = graph.getAttributes();
  const about = alertId ? `paths behind alert ${alertId} on device ${deviceId}` : `process graph of device ${deviceId}`;

  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<graphml xmlns="http://graphml.graphdrawing.org/xmlns">',
    ...[...nodeKeys].map(([name, type]) => keyLine('n', 'node', name, type)),
    ...[...edgeKeys].map(([name, type]) => keyLine('e', 'edge', name, type)),
    `<graph id="${xmlText(about)}${truncated ? ' (truncated)' : ''}" edgedefault="directed">`,
    ...nodes.map((n) => `<node id="${xmlText(n.id)}">${dataLines('n', n.data)}</node>`),
    ...edges.map(
      (e) =>
        `<edge id="${xmlText(e.id)}" source="${xmlText(e.source)}" target="${xmlText(e.target)}">` +
        `${dataLines('e', e.data)}</edge>`,
    ),
    '</graph>',
    '</graphml>',
    '',
  ].join('\n');
}

type GraphmlType = 'boolean' | 'long' | 'double' | 'string';

/** Every attribute name with one GraphML type; a name seen with two types is a string. */
function keysOf(records: Record<string, FlatValue>[]): Map<string, GraphmlType> {
  const types = new Map<string, GraphmlType>();
  for (const record of records) {
    for (const [name, value] of Object.entries(record)) {
      const type = graphmlType(value);
      const known = types.get(name);
      types.set(name, known === undefined || known === type ? type : 'string');
    }
  }

  return new Map([...types].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function graphmlType(value: FlatValue): GraphmlType {
  if (typeof value === 'boolean') return 'boolean';
  if (typeof value === 'number') return Number.isInteger(value) ? 'long' : 'double';

  return 'string';
}

function keyLine(prefix: string, target: 'node' | 'edge', name: string, type: GraphmlType): string {
  return `<key id="${prefix}_${xmlText(name)}" for="${target}" attr.name="${xmlText(name)}" attr.type="${type}"/>`;
}

function dataLines(prefix: string, data: Record<string, FlatValue>): string {
  return Object.entries(data)
    .map(([name, value]) => `<data key="${prefix}_${xmlText(name)}">${xmlText(String(value))}</data>`)
    .join('');
}

/** Text and attribute values as XML: the five predefined entities; characters XML 1.0 cannot carry dropped. */
function xmlText(text: string): string {
  return text
    .replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
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
