import cytoscape from 'cytoscape';
import { MultiDirectedGraph } from 'graphology';
import { parse as parseGexf } from 'graphology-gexf';
import { describe, expect, it } from 'vitest';

import { buildDeviceGraph } from '../../../src/detection/graph.builder.js';
import { served } from '../../../src/graph/graph.attributes.js';
import { exportGraph } from '../../../src/graph/graph.export.js';
import { nearby } from '../../../src/graph/graph.neighbourhood.js';
import { EdgeKind } from '../../../src/vocabulary/graph.vocabulary.js';
import { at, connection, DEVICE_ID, injection } from '../../fixtures/graphs/graph.fixture.js';
import { readGexf, readGraphml } from '../../support/graph-documents.js';

const CREATED = at('13:00:00.0000000');

/**
 * Graph mode (lifetime keys, `pid@creationTime`): rundll32 (4120) injects notepad (2580) and is its parent, so two
 * edges of different kinds join the same two processes; notepad connects to ADWS and injects a process of unknown
 * creation time (so its key is pid and name) whose logged name holds a control character and XML metacharacters.
 *
 *   rundll32 ══injected══▶ notepad ──connected──▶ 10.0.0.5:9389
 *            ══spawned═══▶    └──injected──▶ "ev<il>&\u0001.exe" (7000)
 */
function lifetimeGraph() {
  const events = {
    injections: [
      injection('i1', { timestamp: at('14:00:00.0000000'), processCreationTime: CREATED }),
      injection('i2', {
        timestamp: at('14:20:00.0000000'),
        initiatingProcessId: 2580,
        initiatingProcessFileName: 'notepad.exe',
        initiatingProcessCreationTime: CREATED,
        processId: 7000,
        fileName: 'ev<il>&\u0001.exe',
        folderPath: 'c:\\temp\\"quoted"\u0002',
      }),
    ],
    connections: [
      connection('c1', {
        timestamp: at('14:10:00.0000000'),
        initiatingProcessCreationTime: CREATED,
        initiatingProcessParentId: 4120,
        initiatingProcessParentFileName: 'rundll32.exe',
      }),
    ],
  };

  return buildDeviceGraph(DEVICE_ID, events, [9389], 'lifetime');
}

/** The graph as the service serves it: cut at 3 nodes around notepad, with its bounds. */
function servedGraph() {
  const graph = lifetimeGraph();
  const notepad = graph.findNode((_key, attributes) => attributes.kind === 'process' && attributes.processId === 2580)!;
  const part = nearby(graph, [notepad], 1, 3);
  const bounds = { truncated: part.truncated, processKey: notepad, depth: 1, from: at('00:00:00.0000000') };

  return { full: graph, graph: served(part.graph, bounds, part.counts), notepad };
}

describe('exports as the importers read them', () => {
  it('the fixture has what makes importers stumble: parallel edges, odd characters, ids with @ and >', () => {
    const graph = lifetimeGraph();
    const pairs = graph.mapEdges((_key, _attributes, source, target) => `${source} ${target}`);

    expect(new Set(pairs).size).toBeLessThan(pairs.length);
    expect(graph.edges().every((key) => key.includes('->'))).toBe(true);
    expect(graph.nodes().some((key) => key.includes('\u0001'))).toBe(true);
    expect(graph.edges().map((key) => graph.getEdgeAttribute(key, 'kind'))).toContain(EdgeKind.Spawned);
  });

  it('graphml: namespaced, typed keys, unique ids, directed, values of their type, bounds as graph data', () => {
    const { full, graph } = servedGraph();
    const complete = served(nearby(full, full.nodes(), 0).graph, { truncated: false }, nearby(full, [], 0).counts);

    const doc = readGraphml(exportGraph(graph, 'graphml').body as string);
    const all = readGraphml(exportGraph(complete, 'graphml').body as string);

    expect(doc.graph.values).toMatchObject({
      deviceId: DEVICE_ID,
      truncated: 'true',
      depth: '1',
      from: at('00:00:00.0000000'),
      'counts.reachableNodes': '4',
      'counts.shownNodes': '3',
    });
    expect(doc.graph.desc).toMatch(/^neighbourhood of process .* on device dev-1 \(truncated=true /);
    expect(doc.graph.id).toMatch(/^[\p{L}\p{N}._:-]+$/u);
    expect(all.nodes.map((n) => n.id)).toEqual(full.nodes().map((key) => key.replace('\u0001', '\uFFFD')));
    expect(all.edges.map((e) => e.id)).toEqual(full.edges().map((key) => key.replace('\u0001', '\uFFFD')));
    const odd = all.nodes.find((n) => n.values.processId === '7000')!;
    expect(odd.values.label).toBe('ev<il>&\uFFFD.exe (7000)');
    // Lists travel as JSON text, whose escapes carry any character: the original comes back.
    expect(JSON.parse(odd.values.folderPaths!)).toEqual(['c:\\temp\\"quoted"\u0002']);
    expect(all.keys.get('n_processId')).toEqual({ for: 'node', name: 'processId', type: 'long' });
    expect(all.keys.get('g_truncated')).toEqual({ for: 'graph', name: 'truncated', type: 'boolean' });
  });

  it('gexf: GEXF 1.3, declared typed attributes, edge kinds keep parallel edges apart, bounds in the meta', () => {
    const { full } = servedGraph();
    const complete = served(full.copy(), { truncated: false }, nearby(full, []).counts);
    const text = exportGraph(complete, 'gexf').body as string;

    const doc = readGexf(text);
    const parsed = parseGexf(MultiDirectedGraph, text);

    expect(doc.nodes).toHaveLength(full.order);
    expect(doc.edges).toHaveLength(full.size);
    expect(doc.attributes.node.get('processId')).toEqual({ title: 'processId', type: 'integer' });
    expect(doc.attributes.edge.get('count')).toEqual({ title: 'count', type: 'integer' });
    for (const edge of doc.edges) {
      expect(edge.xml.kind).toBe(edge.values.kind);
      expect(edge.xml.weight).toBe(edge.values.count);
      expect(edge.xml.label).not.toBe('');
    }
    const kindsByPair = new Map<string, string[]>();
    for (const edge of doc.edges)
      kindsByPair.set(`${edge.source} ${edge.target}`, [
        ...(kindsByPair.get(`${edge.source} ${edge.target}`) ?? []),
        edge.xml.kind!,
      ]);
    expect([...kindsByPair.values()].some((kinds) => kinds.length === 2 && new Set(kinds).size === 2)).toBe(true);
    expect(doc.meta).toEqual({
      creator: 'adws-injection-graph',
      description:
        `process graph of device ${DEVICE_ID} ` +
        '(truncated=false reachableNodes=4 shownNodes=4 reachableEvents=3 shownEvents=3)',
    });
    expect(parsed.order).toBe(full.order);
    expect(parsed.size).toBe(full.size);
  });

  it('gexf: a cut graph says truncated in its keywords and description', () => {
    const { graph } = servedGraph();

    const doc = readGexf(exportGraph(graph, 'gexf').body as string);

    expect(doc.meta.keywords).toBe('truncated');
    expect(doc.meta.description).toContain('(truncated=true reachableNodes=4 shownNodes=3 ');
    expect(doc.meta.description).toContain(' depth=1 from=2023-10-18T00:00:00.0000000Z)');
  });

  it('cytoscape: Cytoscape.js loads the elements and keeps the graph attributes as its data', () => {
    const { graph } = servedGraph();
    const body = exportGraph(graph, 'cytoscape').body as { data: Record<string, unknown>; elements: unknown };

    const cy = cytoscape({ headless: true, elements: body.elements as cytoscape.ElementsDefinition });
    cy.data(body.data);

    expect(cy.nodes()).toHaveLength(graph.order);
    expect(cy.edges()).toHaveLength(graph.size);
    expect(cy.data()).toMatchObject({ truncated: true, depth: 1, counts: { reachableNodes: 4, shownNodes: 3 } });
  });

  it('json: the graph attributes carry the same bounds and counts', () => {
    const { graph, notepad } = servedGraph();

    const body = exportGraph(graph, 'json').body as { attributes: Record<string, unknown> };

    expect(body.attributes).toEqual({
      deviceId: DEVICE_ID,
      truncated: true,
      processKey: notepad,
      depth: 1,
      from: at('00:00:00.0000000'),
      counts: graph.getAttribute('counts'),
    });
  });
});

describe('the strict readers', () => {
  const graphml = (body: string, keys = '<key id="n_a" for="node" attr.name="a" attr.type="long"/>') =>
    `<?xml version="1.0"?><graphml xmlns="http://graphml.graphdrawing.org/xmlns">${keys}` +
    `<graph id="g" edgedefault="directed">${body}</graph></graphml>`;
  const gexf = (body: string, meta = '') =>
    `<?xml version="1.0"?><gexf xmlns="http://gexf.net/1.3" version="1.3"><meta>${meta}</meta>` +
    `<graph defaultedgetype="directed"><attributes class="node"><attribute id="a" title="a" type="integer"/>` +
    `</attributes>${body}</graph></gexf>`;

  it('accept a minimal valid document of each format', () => {
    expect(readGraphml(graphml('<node id="x"><data key="n_a">1</data></node>')).nodes).toHaveLength(1);
    expect(
      readGexf(
        gexf('<nodes><node id="x" label="x"><attvalues><attvalue for="a" value="1"/></attvalues></node></nodes>'),
      ).nodes,
    ).toHaveLength(1);
  });

  const GRAPHML_KEYS = '<key id="g_t" for="graph" attr.name="t" attr.type="boolean"/>';
  const gexfNode = (attvalue: string) => gexf(`<nodes><node id="x"><attvalues>${attvalue}</attvalues></node></nodes>`);
  const gexfEdges = (edges: string) => gexf(`<nodes><node id="x"/></nodes><edges>${edges}</edges>`);

  it.each([
    ['a value not of its type', graphml('<node id="x"><data key="n_a">one</data></node>'), /is not a long/],
    ['an undeclared key', graphml('<node id="x"><data key="n_b">1</data></node>'), /undeclared key/],
    ['an empty value', graphml('<node id="x"><data key="n_a"> </data></node>'), /is empty/],
    ['a duplicate node id', graphml('<node id="x"/><node id="x"/>'), /not unique/],
    ['an edge to an unknown node', graphml('<node id="x"/><edge id="e" source="x" target="y"/>'), /unknown node/],
    ['graph data after a node', graphml('<node id="x"/><data key="g_t">true</data>', GRAPHML_KEYS), /follows a node/],
    ['a prefixed element', graphml('<g:node xmlns:g="http://graphml.graphdrawing.org/xmlns" id="x"/>'), /prefix/],
    ['a nameless key', graphml('<node id="x"/>', '<key id="n_a" for="node" attr.type="long"/>'), /no attr.name/],
    ['an undirected graph', graphml('<node id="x"/>').replace('directed', 'undirected'), /not directed/],
    ['malformed XML', graphml('<node id="x">'), /close tag/i],
  ])('GraphML: refuse %s', (_name, text, reason) => {
    expect(() => readGraphml(text)).toThrow(reason);
  });

  it.each([
    ['a graph attribute in <meta>', gexf('<nodes/>', '<deviceId>d</deviceId>'), /GEXF does not define/],
    ['a value not of its type', gexfNode('<attvalue for="a" value="1.5"/>'), /is not a integer/],
    ['an undeclared attribute', gexfNode('<attvalue for="b" value="1"/>'), /undeclared/],
    ['an edge to an unknown node', gexfEdges('<edge id="e" source="x" target="y"/>'), /unknown node/],
    ['a duplicate edge id', gexfEdges('<edge id="e" source="x" target="x"/>'.repeat(2)), /not unique/],
    ['a control character', gexf('<nodes><node id="x\u0001"/></nodes>'), /disallowed character/i],
  ])('GEXF: refuse %s', (_name, text, reason) => {
    expect(() => readGexf(text)).toThrow(reason);
  });
});
