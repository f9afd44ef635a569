import { write as writeGexf } from 'graphology-gexf';
import { MultiDirectedGraph } from 'graphology';

import { InvalidInputError } from '../common/domain.errors.js';
import type { DeviceGraph } from '../detection/graph.builder.js';
import { EdgeKind, NodeKind, type EdgeAttributes, type NodeAttributes } from '../vocabulary/graph.vocabulary.js';
import type { ServedGraph, ServedGraphAttributes } from './graph.attributes.js';

export const GRAPH_EXPORT_FORMATS = ['json', 'cytoscape', 'gexf', 'graphml'] as const;
export type GraphExportFormat = (typeof GRAPH_EXPORT_FORMATS)[number];

export interface GraphExport {
  contentType: string;
  /** An object to send as JSON, or the XML document. */
  body: unknown | string;
}

type ExportableGraph = DeviceGraph | ServedGraph;
type FlatValue = string | number | boolean;
type GraphInfo = Partial<ServedGraphAttributes> & { deviceId: string };

/**
 * A graph in one of four shapes: `json` is graphology's serialised form (`graph.export()`), `cytoscape` the
 * Cytoscape.js JSON (`data` and `elements`) with readable labels, `gexf` a GEXF 1.3 document for Gephi and `graphml`
 * a GraphML document (Cytoscape desktop, yEd, Gephi), where list and object attributes are written as JSON strings.
 * The graph attributes (device, alert or process, `truncated`, `counts`, bounds) reach every shape.
 */
export function exportGraph(graph: ExportableGraph, format: GraphExportFormat): GraphExport {
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

/** Cytoscape.js JSON: `data` holds the graph attributes (as `cy.json()` does), `elements` the nodes and edges. */
function toCytoscape(graph: ExportableGraph) {
  const nodes = graph.mapNodes((id, attributes) => ({
    data: { id, label: nodeLabel(attributes), ...attributes },
  }));
  const edges = graph.mapEdges((id, attributes, source, target) => ({
    data: { id, source, target, label: edgeLabel(attributes), ...attributes },
  }));

  return { data: { ...graph.getAttributes() }, elements: { nodes, edges } };
}

/**
 * GEXF 1.3 as Gephi imports it: typed attribute declarations inferred by graphology-gexf, a label on every node
 * and edge, each edge's kind as its GEXF `kind` (Gephi's edge type, so an `injected` and an `accessed` edge between
 * the same two processes stay two edges) and its event count as its weight. GEXF has no graph attributes: <meta>
 * takes only creator, keywords and description, so the bounds and counts are written into the description.
 */
function toGexf(graph: ExportableGraph): string {
  const info = graph.getAttributes() as GraphInfo;
  const keywords: Record<string, string> = info.truncated ? { keywords: 'truncated' } : {};
  const meta = xmlSafeCopy(graph);
  meta.replaceAttributes({ creator: 'adws-injection-graph', description: xmlSafe(describe(info)), ...keywords });

  return writeGexf(meta, {
    version: '1.3',
    formatNode: (_key, attributes) => ({ label: xmlSafe(nodeLabel(attributes)), attributes: flatten(attributes) }),
    formatEdge: (_key, attributes) => ({
      label: xmlSafe(edgeLabel(attributes)),
      kind: attributes.kind,
      weight: attributes.count,
      attributes: flatten(attributes),
    }),
  });
}

/**
 * GraphML as Cytoscape desktop, yEd and Gephi read it: unprefixed elements in the GraphML namespace (Cytoscape
 * matches qualified names), one <key> per attribute name and kind of element (graph keys `g_`, node keys `n_`, edge
 * keys `e_`, so Gephi gets separate node and edge columns) typed boolean, long, double or string, attr.name the
 * attribute's name (Cytoscape's column), graph data before the first node (Cytoscape writes data that follows a node
 * into that node), and no empty values. Node and edge ids are the graph's keys, which the API takes back (e.g. as a
 * processKey). NOTE: graphml.xsd types ids as NMTOKEN, which keys with `@`, `>` or spaces are not; the importers
 * named read ids as plain strings, so the keys are kept rather than renamed. NOTE: Gephi's GraphML importer skips
 * graph keys (one non-fatal issue each in its import report) and merges parallel edges, as GraphML has no edge
 * kind; GEXF is the format for Gephi.
 */
function toGraphml(graph: ExportableGraph): string {
  const info = graph.getAttributes() as GraphInfo;
  const graphData = graphFields(info);
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

  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<graphml xmlns="${GRAPHML_NS}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"`,
    `  xsi:schemaLocation="${GRAPHML_NS} ${GRAPHML_NS}/1.0/graphml.xsd">`,
    ...keyLines('g', 'graph', [graphData]),
    ...keyLines(
      'n',
      'node',
      nodes.map((n) => n.data),
    ),
    ...keyLines(
      'e',
      'edge',
      edges.map((e) => e.data),
    ),
    `<graph id="${graphId(info)}" edgedefault="directed">`,
    `<desc>${xmlText(describe(info))}</desc>`,
    dataLines('g', graphData),
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

/** The graph with XML-safe node and edge keys (graphology-gexf writes keys as they are) and no graph attributes. */
function xmlSafeCopy(
  graph: ExportableGraph,
): MultiDirectedGraph<NodeAttributes, EdgeAttributes, Record<string, string>> {
  const copy = new MultiDirectedGraph<NodeAttributes, EdgeAttributes, Record<string, string>>();
  graph.forEachNode((key, attributes) => copy.addNode(xmlSafe(key), attributes));
  graph.forEachEdge((key, attributes, source, target) =>
    copy.addDirectedEdgeWithKey(xmlSafe(key), xmlSafe(source), xmlSafe(target), attributes),
  );

  return copy;
}

/** "process graph of device X (truncated=false reachableNodes=5 shownNodes=5 ... depth=1 from=... to=...)". */
function describe(info: GraphInfo): string {
  const about = info.alertId
    ? `paths behind alert ${info.alertId} on device ${info.deviceId}`
    : info.processKey
      ? `neighbourhood of process ${info.processKey} on device ${info.deviceId}`
      : `process graph of device ${info.deviceId}`;
  const bounds = Object.entries(graphFields(info))
    .filter(([name]) => !['deviceId', 'alertId', 'processKey'].includes(name))
    .map(([name, value]) => `${name.replace(/^counts\./, '')}=${value}`);

  return bounds.length > 0 ? `${about} (${bounds.join(' ')})` : about;
}

/** The graph attributes one level deep (`counts.shownNodes`), scalars only: who, truncated, counts, bounds. */
function graphFields(info: GraphInfo): Record<string, FlatValue> {
  const { deviceId, alertId, processKey, truncated, counts, ...bounds } = info;
  const fields: Record<string, unknown> = { deviceId, alertId, processKey, truncated };
  if (counts) for (const [name, value] of Object.entries(counts)) fields[`counts.${name}`] = value;

  return flatten({ ...fields, ...bounds });
}

/** A readable NMTOKEN for <graph id> (Cytoscape names the network after it): letters, digits, `.-_:` only. */
function graphId(info: GraphInfo): string {
  const id = info.alertId ? `alert:${info.alertId}` : `device:${info.deviceId}`;

  return id.replace(/[^\p{L}\p{N}._:-]/gu, '_');
}

const GRAPHML_NS = 'http://graphml.graphdrawing.org/xmlns';

type GraphmlType = 'boolean' | 'long' | 'double' | 'string';

/** One <key> per attribute name with one GraphML type (a name seen with two types is a string), by name. */
function keyLines(prefix: string, target: 'graph' | 'node' | 'edge', records: Record<string, FlatValue>[]): string[] {
  const types = new Map<string, GraphmlType>();
  for (const record of records) {
    for (const [name, value] of Object.entries(record)) {
      const type = graphmlType(value);
      const known = types.get(name);
      types.set(name, known === undefined || known === type ? type : 'string');
    }
  }

  return [...types]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(
      ([name, type]) =>
        `<key id="${prefix}_${xmlText(name)}" for="${target}" attr.name="${xmlText(name)}" attr.type="${type}"/>`,
    );
}

function graphmlType(value: FlatValue): GraphmlType {
  if (typeof value === 'boolean') return 'boolean';
  if (typeof value === 'number') return Number.isInteger(value) ? 'long' : 'double';

  return 'string';
}

function dataLines(prefix: string, data: Record<string, FlatValue>): string {
  return Object.entries(data)
    .map(([name, value]) => `<data key="${prefix}_${xmlText(name)}">${xmlText(String(value))}</data>`)
    .join('');
}

/** Characters XML 1.0 cannot carry (most C0 controls, lone surrogates, U+FFFE/U+FFFF). */
const NOT_XML = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

/** Text the XML writer can carry: characters XML 1.0 has no place for become U+FFFD. */
function xmlSafe(text: string): string {
  return text.replace(NOT_XML, '\uFFFD');
}

/** Text and attribute values as XML: xmlSafe, then the five predefined entities. */
function xmlText(text: string): string {
  return xmlSafe(text)
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

/**
 * Attributes as the XML formats carry them: finite numbers and booleans kept, text made XML-safe, lists and objects
 * as JSON text, and null, undefined and empty text left out (both importers treat an absent value as empty).
 */
function flatten(attributes: object): Record<string, FlatValue> {
  const flat: Record<string, FlatValue> = {};
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === '') continue;
    if (typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value))) flat[name] = value;
    else flat[name] = xmlSafe(typeof value === 'object' ? JSON.stringify(value) : String(value));
  }

  return flat;
}
