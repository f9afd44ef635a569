import { MultiDirectedGraph } from 'graphology';
import { parse as parseGexf } from 'graphology-gexf';
import { SaxesParser } from 'saxes';
import { describe, expect, it } from 'vitest';

import { InvalidInputError } from '../../../src/common/domain.errors.js';
import { buildDeviceGraph } from '../../../src/detection/graph.builder.js';
import { exportGraph, type GraphExportFormat } from '../../../src/graph/graph.export.js';
import { adwsEndpointNodeKey, EdgeKind, edgeKey, processNodeKey } from '../../../src/vocabulary/graph.vocabulary.js';
import { at, connection, DEVICE_ID, injection } from '../../fixtures/graphs/graph.fixture.js';
import { twoInjectors } from '../../fixtures/graphs/two-injectors.fixture.js';

const NOTEPAD = processNodeKey(DEVICE_ID, 2580, 'notepad.exe');
const POWERSHELL = processNodeKey(DEVICE_ID, 5200, 'powershell.exe');
const ADWS_5 = adwsEndpointNodeKey(DEVICE_ID, '10.0.0.5', 9389);

/** two-injectors, plus an IPv6 endpoint and a folder path with XML metacharacters. */
function fixtureGraph() {
  const events = {
    injections: [
      ...twoInjectors.injections,
      injection('i9', {
        timestamp: at('14:03:00.0000000'),
        initiatingProcessId: 6000,
        initiatingProcessFileName: 'tool.exe',
        initiatingProcessFolderPath: 'c:\\users\\<bob> & "alice"\\tools',
      }),
    ],
    connections: [
      ...twoInjectors.connections,
      connection('c9', { timestamp: at('14:30:00.0000000'), remoteIp: 'fe80::1' }),
    ],
  };

  return buildDeviceGraph(DEVICE_ID, events, [9389]);
}

describe('exportGraph', () => {
  it('json: the graphology serialisation, stable through JSON', () => {
    const graph = fixtureGraph();

    const { contentType, body } = exportGraph(graph, 'json');

    expect(contentType).toBe('application/json');
    expect(body).toStrictEqual(graph.export());
    expect(JSON.parse(JSON.stringify(body))).toStrictEqual(body);
    expect(MultiDirectedGraph.from(body as ReturnType<typeof graph.export>).export()).toStrictEqual(graph.export());
  });

  it('cytoscape: elements with readable labels, kinds and attributes', () => {
    const graph = fixtureGraph();

    const { contentType, body } = exportGraph(graph, 'cytoscape');
    const { elements } = body as { elements: { nodes: { data: any }[]; edges: { data: any }[] } };
    const labels = Object.fromEntries([...elements.nodes, ...elements.edges].map(({ data }) => [data.id, data.label]));

    expect(contentType).toBe('application/json');
    expect(elements.nodes).toHaveLength(graph.order);
    expect(elements.edges).toHaveLength(graph.size);
    expect(labels[NOTEPAD]).toBe('notepad.exe (2580)');
    expect(labels[POWERSHELL]).toBe('PowerShell.exe (5200)');
    expect(labels[ADWS_5]).toBe('10.0.0.5:9389');
    expect(labels[adwsEndpointNodeKey(DEVICE_ID, 'fe80::1', 9389)]).toBe('[fe80::1]:9389');
    expect(labels[edgeKey(EdgeKind.Injected, POWERSHELL, NOTEPAD)]).toBe(
      'injected: NtMapViewOfSectionRemoteApiCall, QueueUserApcRemoteApiCall, SetThreadContextRemoteApiCall x3',
    );
    expect(labels[edgeKey(EdgeKind.Connected, NOTEPAD, ADWS_5)]).toBe('connected x1');
    const edge = elements.edges.find(({ data }) => data.id === edgeKey(EdgeKind.Injected, POWERSHELL, NOTEPAD))!;
    expect(edge.data).toMatchObject({ source: POWERSHELL, target: NOTEPAD, kind: EdgeKind.Injected, count: 3 });
    expect(edge.data.occurrences).toStrictEqual(graph.getEdgeAttribute(edge.data.id, 'occurrences'));
  });

  it('graphml: a well-formed document with typed keys and every node, edge and attribute value', () => {
    const graph = fixtureGraph();

    const { contentType, body } = exportGraph(graph, 'graphml');
    const parsed = readGraphml(body as string);

    expect(contentType).toBe('application/graphml+xml');
    expect(parsed.nodes.map((n) => n.id)).toStrictEqual(graph.nodes());
    expect(parsed.edges.map((e) => e.id)).toStrictEqual(graph.edges());
    expect(parsed.keys.get('n_processId')).toEqual({ for: 'node', name: 'processId', type: 'long' });
    expect(parsed.keys.get('e_count')).toEqual({ for: 'edge', name: 'count', type: 'long' });
    const notepad = parsed.nodes.find((n) => n.id === NOTEPAD)!;
    expect(notepad.data).toMatchObject({ n_label: 'notepad.exe (2580)', n_processId: '2580' });
    const tool = parsed.nodes.find((n) => n.id === processNodeKey(DEVICE_ID, 6000, 'tool.exe'))!;
    expect(JSON.parse(tool.data.n_folderPaths!)).toStrictEqual(['c:\\users\\<bob> & "alice"\\tools']);
    const injected = parsed.edges.find((e) => e.id === edgeKey(EdgeKind.Injected, POWERSHELL, NOTEPAD))!;
    expect(injected).toMatchObject({ source: POWERSHELL, target: NOTEPAD });
    expect(JSON.parse(injected.data.e_occurrences!)).toStrictEqual(graph.getEdgeAttribute(injected.id, 'occurrences'));
  });

  it('gexf: a document graphology-gexf parses back to the same keys and attribute values', () => {
    const graph = fixtureGraph();

    const { contentType, body } = exportGraph(graph, 'gexf');
    const parsed = parseGexf(MultiDirectedGraph, body as string);

    expect(contentType).toBe('application/gexf+xml');
    expect((body as string).match(/<node /g)).toHaveLength(graph.order);
    expect((body as string).match(/<edge /g)).toHaveLength(graph.size);
    expect(parsed.nodes()).toStrictEqual(graph.nodes());
    expect(parsed.edges()).toStrictEqual(graph.edges());
    expect(parsed.getNodeAttributes(NOTEPAD)).toMatchObject({ label: 'notepad.exe (2580)', processId: 2580 });
    const tool = processNodeKey(DEVICE_ID, 6000, 'tool.exe');
    expect(JSON.parse(parsed.getNodeAttribute(tool, 'folderPaths'))).toStrictEqual([
      'c:\\users\\<bob> & "alice"\\tools',
    ]);
    const injected = edgeKey(EdgeKind.Injected, POWERSHELL, NOTEPAD);
    expect(parsed.getEdgeAttributes(injected)).toMatchObject({ kind: EdgeKind.Injected, count: 3 });
    expect(JSON.parse(parsed.getEdgeAttribute(injected, 'occurrences'))).toStrictEqual(
      graph.getEdgeAttribute(injected, 'occurrences'),
    );
  });

  it('rejects an unknown format', () => {
    expect(() => exportGraph(fixtureGraph(), 'dot' as GraphExportFormat)).toThrow(InvalidInputError);
  });
});

interface GraphmlElement {
  id: string;
  source?: string;
  target?: string;
  data: Record<string, string>;
}

/** A strict XML parse (saxes) of a GraphML document into its keys, nodes and edges. */
function readGraphml(text: string) {
  const parser = new SaxesParser();
  const keys = new Map<string, { for: string; name: string; type: string }>();
  const nodes: GraphmlElement[] = [];
  const edges: GraphmlElement[] = [];
  let current: GraphmlElement | null = null;
  let dataKey: string | null = null;
  let dataText = '';
  parser.on('opentag', (tag) => {
    const a = tag.attributes as Record<string, string>;
    if (tag.name === 'key') keys.set(a.id!, { for: a.for!, name: a['attr.name']!, type: a['attr.type']! });
    if (tag.name === 'node') nodes.push((current = { id: a.id!, data: {} }));
    if (tag.name === 'edge') edges.push((current = { id: a.id!, source: a.source, target: a.target, data: {} }));
    if (tag.name === 'data') [dataKey, dataText] = [a.key!, ''];
  });
  parser.on('text', (t) => (dataText += dataKey === null ? '' : t));
  parser.on('closetag', (tag) => {
    if (tag.name === 'data' && current !== null && dataKey !== null) current.data[dataKey] = dataText;
    if (tag.name === 'data') dataKey = null;
  });
  parser.write(text).close();

  return { keys, nodes, edges };
}
