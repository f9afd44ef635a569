import { describe, expect, it } from 'vitest';

import { InvalidInputError } from '../../../src/common/domain.errors.js';
import { buildDeviceGraph } from '../../../src/detection/graph.builder.js';
import { injectionAndConnectionNodes, nearby, whole } from '../../../src/graph/graph.neighbourhood.js';
import { timeWindow, withinWindow } from '../../../src/graph/graph.window.js';
import {
  adwsEndpointNodeKey,
  EdgeKind,
  edgeKey,
  processNodeKey,
  type InjectedEdgeAttributes,
} from '../../../src/vocabulary/graph.vocabulary.js';
import { at, connection, DEVICE_ID, injection } from '../../fixtures/graphs/graph.fixture.js';
import { twoInjectors } from '../../fixtures/graphs/two-injectors.fixture.js';

const NOTEPAD = processNodeKey(DEVICE_ID, 2580, 'notepad.exe');
const RUNDLL32 = processNodeKey(DEVICE_ID, 4120, 'rundll32.exe');
const POWERSHELL = processNodeKey(DEVICE_ID, 5200, 'powershell.exe');
const ADWS_5 = adwsEndpointNodeKey(DEVICE_ID, '10.0.0.5', 9389);
const ADWS_6 = adwsEndpointNodeKey(DEVICE_ID, '10.0.0.6', 9389);
const CMD = processNodeKey(DEVICE_ID, 7000, 'cmd.exe');

/**
 * two-injectors plus a chain away from it: notepad (2580) injects cmd (7000) at 15:00.
 *
 *   rundll32 ─┐                      ┌─► 10.0.0.5:9389
 *             ├─► notepad (2580) ────┼─► 10.0.0.6:9389
 *   powershell┘                      └─injected──► cmd (7000)
 */
function fixtureGraph() {
  const events = {
    injections: [
      ...twoInjectors.injections,
      injection('i9', {
        timestamp: at('15:00:00.0000000'),
        initiatingProcessId: 2580,
        initiatingProcessFileName: 'notepad.exe',
        processId: 7000,
        fileName: 'cmd.exe',
      }),
    ],
    connections: twoInjectors.connections,
  };

  return buildDeviceGraph(DEVICE_ID, events, [9389]);
}

describe('timeWindow', () => {
  it('turns from and to into canonical timestamps', () => {
    expect(timeWindow({ from: '2023-10-18T16:05:00+02:00', to: '2023-10-18 14:10:00.5Z' })).toEqual({
      from: at('14:05:00.0000000'),
      to: at('14:10:00.5000000'),
    });
    expect(timeWindow({})).toEqual({ from: undefined, to: undefined });
  });

  it('refuses a bad timestamp or from later than to, naming the field', () => {
    const errorOf = (query: { from?: string; to?: string }) => {
      try {
        timeWindow(query);
      } catch (error) {
        return error as InvalidInputError;
      }
      throw new Error('no error');
    };

    expect(errorOf({ from: 'noon' })).toBeInstanceOf(InvalidInputError);
    expect(errorOf({ from: 'noon' }).details).toMatchObject({ field: 'from' });
    expect(errorOf({ to: '2023-02-30T00:00:00Z' }).details).toMatchObject({ field: 'to' });
    expect(errorOf({ from: at('14:00:01.0000000'), to: at('14:00:00.0000000') }).details).toMatchObject({
      field: 'from',
    });
    expect(timeWindow({ from: at('14:00:00.0000000'), to: at('14:00:00.0000000') }).from).toBe(at('14:00:00.0000000'));
  });
});

describe('withinWindow', () => {
  it('keeps the occurrences in the window, recomputing each edge, and drops what is left without one', () => {
    const graph = fixtureGraph();

    const part = withinWindow(graph, { from: at('14:01:00.0000000'), to: at('14:15:00.0000000') });

    expect(part.nodes().sort()).toEqual([ADWS_5, NOTEPAD, POWERSHELL].sort());
    expect(part.edges().sort()).toEqual(
      [edgeKey(EdgeKind.Injected, POWERSHELL, NOTEPAD), edgeKey(EdgeKind.Connected, NOTEPAD, ADWS_5)].sort(),
    );
    const injected = part.getEdgeAttributes(edgeKey(EdgeKind.Injected, POWERSHELL, NOTEPAD)) as InjectedEdgeAttributes;
    expect(injected).toMatchObject({
      count: 2,
      firstSeen: at('14:01:00.0000000'),
      lastSeen: at('14:02:00.0000000'),
      actionTypes: ['NtMapViewOfSectionRemoteApiCall', 'QueueUserApcRemoteApiCall'],
    });
    expect(injected.occurrences.map((o) => o.timestamp)).toEqual([at('14:01:00.0000000'), at('14:02:00.0000000')]);
    expect(graph.getEdgeAttribute(edgeKey(EdgeKind.Injected, POWERSHELL, NOTEPAD), 'count')).toBe(3);
  });

  it('includes both ends of the window and returns the graph itself when it is open', () => {
    const graph = fixtureGraph();

    const exact = withinWindow(graph, { from: at('14:10:00.0000000'), to: at('14:10:00.0000000') });

    expect(exact.edges()).toEqual([edgeKey(EdgeKind.Connected, NOTEPAD, ADWS_5)]);
    expect(withinWindow(graph, {})).toBe(graph);
  });
});

describe('nearby', () => {
  it('draws the nodes within depth hops of the starts, either way, with every edge between them', () => {
    const graph = fixtureGraph();

    const zero = nearby(graph, [CMD], 0);
    const one = nearby(graph, [CMD], 1);
    const two = nearby(graph, [CMD], 2);

    expect(zero.graph.nodes()).toEqual([CMD]);
    expect(one.graph.nodes().sort()).toEqual([CMD, NOTEPAD].sort());
    expect(one.graph.edges()).toEqual([edgeKey(EdgeKind.Injected, NOTEPAD, CMD)]);
    expect(two.graph.order).toBe(graph.order);
    expect(two.graph.size).toBe(graph.size);
    expect(two).toMatchObject({ truncated: false, counts: { reachableNodes: 6, shownNodes: 6 } });
  });

  it('cuts at limit nodes, nearer first then by key, and counts what it cut', () => {
    const graph = fixtureGraph();

    const cut = nearby(graph, [CMD], 2, 3);

    // hop 0: cmd; hop 1: notepad; hop 2 by key: adws 10.0.0.5, adws 10.0.0.6, powershell, rundll32.
    expect(cut.graph.nodes().sort()).toEqual([ADWS_5, CMD, NOTEPAD].sort());
    expect(cut).toMatchObject({
      truncated: true,
      counts: { reachableNodes: 6, shownNodes: 3, reachableEvents: 7, shownEvents: 2 },
    });
  });

  it('starts from every start node at once and skips starts the graph lacks', () => {
    const graph = fixtureGraph();

    const part = nearby(graph, [RUNDLL32, ADWS_6, 'process:nowhere'], 0);

    expect(part.graph.nodes().sort()).toEqual([ADWS_6, RUNDLL32].sort());
    expect(part.counts).toEqual({ reachableNodes: 2, shownNodes: 2, reachableEvents: 0, shownEvents: 0 });
  });

  it('without a depth draws the whole graph, nothing cut', () => {
    const graph = fixtureGraph();

    expect(whole(graph)).toMatchObject({
      truncated: false,
      counts: { reachableNodes: 6, shownNodes: 6, reachableEvents: 7, shownEvents: 7 },
    });
  });
});

describe('injectionAndConnectionNodes', () => {
  it('names the processes and endpoints of injected and connected edges only', () => {
    const graph = buildDeviceGraph(
      DEVICE_ID,
      { injections: [], connections: [connection('c1', { timestamp: at('14:10:00.0000000') })] },
      [9389],
    );

    expect(injectionAndConnectionNodes(graph).sort()).toEqual([ADWS_5, NOTEPAD].sort());
    expect(injectionAndConnectionNodes(fixtureGraph())).toHaveLength(6);
  });
});
