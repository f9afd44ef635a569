import { MultiDirectedGraph } from 'graphology';
import { parse as parseGexf } from 'graphology-gexf';
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
    expect(() => exportGraph(fixtureGraph(), 'graphml' as GraphExportFormat)).toThrow(InvalidInputError);
  });
});
