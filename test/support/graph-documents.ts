/**
 * Strict readers of the GraphML and GEXF documents the graph endpoints write, checking what Cytoscape desktop's and
 * Gephi's importers rely on (their readers are SAX/StAX, not schema validation): well-formed XML in the format's
 * namespace with unprefixed elements, typed attribute declarations with unique non-empty ids and names, unique node
 * and edge ids, edges between declared nodes, directed edges, every value declared and of its declared type, no
 * empty values. Each reader throws on the first violation, naming it, and returns what it read.
 */
import { SaxesParser, type SaxesTagNS } from 'saxes';

const GRAPHML_NS = 'http://graphml.graphdrawing.org/xmlns';
const GEXF_NS = 'http://gexf.net/1.3';
const GRAPHML_TYPES = new Set(['boolean', 'int', 'long', 'float', 'double', 'string']);
const GEXF_TYPES = new Set(['integer', 'long', 'float', 'double', 'boolean', 'string']);

export interface XmlElement {
  id: string;
  source?: string;
  target?: string;
  /** Values by attribute name (GraphML attr.name, GEXF attribute title). */
  values: Record<string, string>;
  /** The element's own XML attributes (label, kind, weight, ...). */
  xml: Record<string, string>;
}

export interface GraphmlDocument {
  keys: Map<string, { for: string; name: string; type: string }>;
  graph: { id: string; edgedefault: string; desc: string; values: Record<string, string> };
  nodes: XmlElement[];
  edges: XmlElement[];
}

export interface GexfDocument {
  meta: Record<string, string>;
  graph: Record<string, string>;
  attributes: {
    node: Map<string, { title: string; type: string }>;
    edge: Map<string, { title: string; type: string }>;
  };
  nodes: XmlElement[];
  edges: XmlElement[];
}

function fail(message: string): never {
  throw new Error(`invalid document: ${message}`);
}

function attributesOf(tag: SaxesTagNS): Record<string, string> {
  return Object.fromEntries(Object.values(tag.attributes).map((a) => [a.name, a.value]));
}

function checkValue(type: string, value: string, where: string): void {
  const ok =
    type === 'boolean'
      ? value === 'true' || value === 'false'
      : type === 'int' || type === 'integer'
        ? /^-?\d+$/.test(value) && Math.abs(Number(value)) <= 2 ** 31 - 1
        : type === 'long'
          ? /^-?\d+$/.test(value) && Math.abs(Number(value)) <= Number.MAX_SAFE_INTEGER
          : type === 'float' || type === 'double'
            ? value.trim() !== '' && Number.isFinite(Number(value))
            : true;
  if (!ok) fail(`${where}: "${value}" is not a ${type}`);
}

function checkElementIds(elements: XmlElement[], kind: string): void {
  const ids = new Set<string>();
  for (const element of elements) {
    if (element.id === '') fail(`a ${kind} has no id`);
    if (ids.has(element.id)) fail(`${kind} id ${element.id} is not unique`);
    ids.add(element.id);
  }
}

/** A GraphML document as Cytoscape desktop's GraphMLParser and Gephi's ImporterGraphML read it. */
export function readGraphml(text: string): GraphmlDocument {
  const parser = new SaxesParser({ xmlns: true });
  const doc: GraphmlDocument = {
    keys: new Map(),
    graph: { id: '', edgedefault: '', desc: '', values: {} },
    nodes: [],
    edges: [],
  };
  const nodeIds = new Set<string>();
  let current: { for: 'graph' | 'node' | 'edge'; values: Record<string, string> } | null = null;
  let dataKey: string | null = null;
  let textBuffer = '';
  let inDesc = false;

  parser.on('opentag', (tag) => {
    if (tag.uri !== GRAPHML_NS) fail(`<${tag.name}> is not in the GraphML namespace`);
    if (tag.prefix !== '') fail(`<${tag.name}> has a prefix: Cytoscape matches unprefixed names`);
    const a = attributesOf(tag);
    switch (tag.local) {
      case 'key':
        return declareKey(doc, a);
      case 'graph':
        doc.graph = { id: a.id ?? '', edgedefault: a.edgedefault ?? '', desc: '', values: {} };
        current = { for: 'graph', values: doc.graph.values };
        return;
      case 'desc':
        inDesc = true;
        textBuffer = '';
        return;
      case 'node': {
        const node: XmlElement = { id: a.id ?? '', values: {}, xml: a };
        doc.nodes.push(node);
        nodeIds.add(node.id);
        current = { for: 'node', values: node.values };
        return;
      }
      case 'edge': {
        if (!nodeIds.has(a.source ?? '') || !nodeIds.has(a.target ?? '')) fail(`edge ${a.id} names an unknown node`);
        const edge: XmlElement = { id: a.id ?? '', source: a.source, target: a.target, values: {}, xml: a };
        doc.edges.push(edge);
        current = { for: 'edge', values: edge.values };
        return;
      }
      case 'data':
        dataKey = a.key ?? fail('<data> without a key');
        textBuffer = '';
        return;
    }
  });
  parser.on('text', (t) => {
    if (dataKey !== null || inDesc) textBuffer += t;
  });
  parser.on('closetag', (tag) => {
    if (tag.local === 'desc') [inDesc, doc.graph.desc] = [false, textBuffer];
    if (tag.local === 'node' || tag.local === 'edge') current = { for: 'graph', values: doc.graph.values };
    if (tag.local !== 'data' || dataKey === null) return;

    readData(doc, current, dataKey, textBuffer);
    dataKey = null;
  });
  parser.write(text).close();

  if (doc.graph.edgedefault !== 'directed') fail('the graph is not directed');
  checkElementIds(doc.nodes, 'node');
  checkElementIds(doc.edges, 'edge');
  return doc;
}

function declareKey(doc: GraphmlDocument, a: Record<string, string>): void {
  const key = { for: a.for ?? '', name: a['attr.name'] ?? '', type: a['attr.type'] ?? '' };
  if (!a.id) fail('a <key> has no id');
  if (doc.keys.has(a.id)) fail(`key id ${a.id} is not unique`);
  if (!['graph', 'node', 'edge'].includes(key.for)) fail(`key ${a.id} is for "${key.for}"`);
  if (key.name === '') fail(`key ${a.id} has no attr.name`);
  if (!GRAPHML_TYPES.has(key.type)) fail(`key ${a.id} has attr.type "${key.type}"`);
  for (const other of doc.keys.values()) {
    if (other.for === key.for && other.name === key.name) fail(`two ${key.for} keys are named ${key.name}`);
  }
  doc.keys.set(a.id, key);
}

function readData(
  doc: GraphmlDocument,
  current: { for: string; values: Record<string, string> } | null,
  keyId: string,
  value: string,
): void {
  const key = doc.keys.get(keyId) ?? fail(`data names the undeclared key ${keyId}`);
  if (current === null || key.for !== current.for) fail(`a ${key.for} key (${keyId}) is used on a ${current?.for}`);
  // Cytoscape keeps writing data into the last node or edge it saw, so graph data must come first.
  if (current.for === 'graph' && doc.nodes.length > 0) fail(`graph data ${keyId} follows a node`);
  if (value.trim() === '') fail(`data ${keyId} is empty`);
  if (key.name in current.values) fail(`data ${keyId} is given twice`);
  checkValue(key.type, value, `data ${keyId}`);
  current.values[key.name] = value;
}

/** A GEXF 1.3 document as Gephi's ImporterGEXF reads it. */
export function readGexf(text: string): GexfDocument {
  const parser = new SaxesParser({ xmlns: true });
  const doc: GexfDocument = {
    meta: {},
    graph: {},
    attributes: { node: new Map(), edge: new Map() },
    nodes: [],
    edges: [],
  };
  const nodeIds = new Set<string>();
  const path: string[] = [];
  let attributeClass: 'node' | 'edge' | null = null;
  let current: { class: 'node' | 'edge'; element: XmlElement } | null = null;
  let textBuffer = '';

  parser.on('opentag', (tag) => {
    if (tag.uri !== GEXF_NS) fail(`<${tag.name}> is not in the GEXF 1.3 namespace`);
    const a = attributesOf(tag);
    const parent = path.at(-1);
    path.push(tag.local);
    textBuffer = '';
    if (tag.local === 'gexf' && a.version !== '1.3') fail(`version is ${a.version}`);
    if (parent === 'meta' && !['creator', 'keywords', 'description'].includes(tag.local)) {
      fail(`<meta> holds <${tag.local}>, which GEXF does not define`);
    }
    if (tag.local === 'graph') doc.graph = a;
    if (tag.local === 'attributes')
      attributeClass = a.class === 'edge' ? 'edge' : a.class === 'node' ? 'node' : fail('attributes class');
    if (tag.local === 'attribute') declareAttribute(doc, attributeClass!, a);
    if (tag.local === 'node') {
      const node: XmlElement = { id: a.id ?? '', values: {}, xml: a };
      doc.nodes.push(node);
      nodeIds.add(node.id);
      current = { class: 'node', element: node };
    }
    if (tag.local === 'edge') {
      if (!nodeIds.has(a.source ?? '') || !nodeIds.has(a.target ?? '')) fail(`edge ${a.id} names an unknown node`);
      const edge: XmlElement = { id: a.id ?? '', source: a.source, target: a.target, values: {}, xml: a };
      doc.edges.push(edge);
      current = { class: 'edge', element: edge };
    }
    if (tag.local === 'attvalue') readAttvalue(doc, current, a);
  });
  parser.on('text', (t) => (textBuffer += t));
  parser.on('closetag', (tag) => {
    path.pop();
    if (path.at(-1) === 'meta') doc.meta[tag.local] = textBuffer;
  });
  parser.write(text).close();

  if (doc.graph.defaultedgetype !== 'directed') fail('the graph is not directed');
  checkElementIds(doc.nodes, 'node');
  checkElementIds(doc.edges, 'edge');
  return doc;
}

function declareAttribute(doc: GexfDocument, attributeClass: 'node' | 'edge', a: Record<string, string>): void {
  const declared = doc.attributes[attributeClass];
  if (!a.id) fail(`a ${attributeClass} attribute has no id`);
  if (declared.has(a.id)) fail(`${attributeClass} attribute id ${a.id} is not unique`);
  if (!a.title) fail(`${attributeClass} attribute ${a.id} has no title`);
  if (!GEXF_TYPES.has(a.type ?? '')) fail(`${attributeClass} attribute ${a.id} has type "${a.type}"`);
  declared.set(a.id, { title: a.title, type: a.type! });
}

function readAttvalue(
  doc: GexfDocument,
  current: { class: 'node' | 'edge'; element: XmlElement } | null,
  a: Record<string, string>,
): void {
  if (current === null) fail('an attvalue outside a node or edge');
  const attribute = doc.attributes[current.class].get(a.for ?? '') ?? fail(`attvalue for undeclared ${a.for}`);
  if ((a.value ?? '') === '') fail(`attvalue ${a.for} of ${current.element.id} is empty`);
  checkValue(attribute.type, a.value!, `attvalue ${a.for} of ${current.element.id}`);
  current.element.values[attribute.title] = a.value!;
}
