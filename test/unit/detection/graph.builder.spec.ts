import { describe, expect, it } from 'vitest';

import { InvalidInputError } from '../../../src/common/domain.errors.js';
import { buildDeviceGraph } from '../../../src/detection/graph.builder.js';
import {
  adwsEndpointNodeKey,
  EdgeKind,
  edgeKey,
  EventTable,
  NodeKind,
  processNodeKey,
} from '../../../src/vocabulary/graph.vocabulary.js';
import { basicHit } from '../../fixtures/graphs/basic-hit.fixture.js';
import { caseInsensitive } from '../../fixtures/graphs/case-insensitive.fixture.js';
import { excludedCsrss } from '../../fixtures/graphs/excluded-csrss.fixture.js';
import { at, connection, DEVICE_ID, injection } from '../../fixtures/graphs/graph.fixture.js';
import { emptyFileName } from '../../fixtures/graphs/identity-mismatch.fixture.js';
import { nearMissActionType } from '../../fixtures/graphs/near-miss-action-type.fixture.js';
import { connectionFailed, wrongPort } from '../../fixtures/graphs/non-adws-connections.fixture.js';
import { redelivered } from '../../fixtures/graphs/redelivered.fixture.js';

const PORTS = [9389];
const NOTEPAD = processNodeKey(DEVICE_ID, 2580, 'notepad.exe');
const RUNDLL32 = processNodeKey(DEVICE_ID, 4120, 'rundll32.exe');
const ADWS = adwsEndpointNodeKey(DEVICE_ID, '10.0.0.5', 9389);

describe('buildDeviceGraph', () => {
  it('builds injector → target → ADWS endpoint with every attribute and occurrence', () => {
    const graph = buildDeviceGraph(DEVICE_ID, basicHit, PORTS);

    expect(graph.getAttributes()).toStrictEqual({ deviceId: DEVICE_ID });
    expect(graph.nodes()).toStrictEqual([ADWS, NOTEPAD, RUNDLL32]);
    expect(graph.getNodeAttributes(NOTEPAD)).toStrictEqual({
      kind: NodeKind.Process,
      deviceId: DEVICE_ID,
      processId: 2580,
      fileName: 'notepad.exe',
      processGuid: null,
      imagePath: null,
      creationTime: null,
      observedNames: ['notepad.exe'],
      folderPaths: ['c:\\windows\\system32'],
      firstSeen: at('14:00:00.0000000'),
      lastSeen: at('14:05:00.0000000'),
    });
    expect(graph.getNodeAttributes(ADWS)).toStrictEqual({
      kind: NodeKind.AdwsEndpoint,
      deviceId: DEVICE_ID,
      remoteIp: '10.0.0.5',
      remotePort: 9389,
      firstSeen: at('14:05:00.0000000'),
      lastSeen: at('14:05:00.0000000'),
    });
    expect(graph.edges()).toStrictEqual([
      edgeKey(EdgeKind.Connected, NOTEPAD, ADWS),
      edgeKey(EdgeKind.Injected, RUNDLL32, NOTEPAD),
    ]);
    expect(graph.getEdgeAttributes(edgeKey(EdgeKind.Injected, RUNDLL32, NOTEPAD))).toStrictEqual({
      kind: EdgeKind.Injected,
      actionTypes: ['CreateRemoteThreadApiCall'],
      firstSeen: at('14:00:00.0000000'),
      lastSeen: at('14:00:00.0000000'),
      count: 1,
      occurrences: [
        {
          evidence: { table: EventTable.DeviceEvents, deviceId: DEVICE_ID, eventKey: basicHit.injections[0]!.eventKey },
          timestamp: at('14:00:00.0000000'),
          actionType: 'CreateRemoteThreadApiCall',
          injectorFileName: 'rundll32.exe',
          injectorFolderPath: 'c:\\windows\\system32',
          deviceName: 'ws01.corp.example',
        },
      ],
    });
    expect(graph.getEdgeAttributes(edgeKey(EdgeKind.Connected, NOTEPAD, ADWS))).toMatchObject({
      kind: EdgeKind.Connected,
      count: 1,
      occurrences: [{ remoteIp: '10.0.0.5', remotePort: 9389, localIp: '10.0.0.20', localPort: 50123 }],
    });
  });

  it('merges spellings of one process into one node, spellings kept first seen first', () => {
    const graph = buildDeviceGraph(DEVICE_ID, caseInsensitive, PORTS);

    expect(graph.order).toBe(3);
    expect(graph.getNodeAttributes(NOTEPAD)).toMatchObject({
      observedNames: ['NOTEPAD.EXE', 'notepad.EXE', 'Notepad.exe'],
    });
    expect(graph.getNodeAttributes(RUNDLL32)).toMatchObject({ observedNames: ['RunDll32.EXE', 'rundll32.exe'] });
    expect(graph.getEdgeAttributes(edgeKey(EdgeKind.Injected, RUNDLL32, NOTEPAD))).toMatchObject({
      actionTypes: ['CreateRemoteThreadApiCall', 'QueueUserApcRemoteApiCall'],
      count: 2,
    });
  });

  it('keeps excluded injectors in the graph: exclusions are applied at path finding', () => {
    const graph = buildDeviceGraph(DEVICE_ID, excludedCsrss, PORTS);

    expect(graph.hasEdge(edgeKey(EdgeKind.Injected, processNodeKey(DEVICE_ID, 600, 'csrss.exe'), NOTEPAD))).toBe(true);
    expect(graph.hasEdge(edgeKey(EdgeKind.Injected, processNodeKey(DEVICE_ID, 604, 'csrss.exe'), NOTEPAD))).toBe(true);
    expect(graph.size).toBe(7);
  });

  it.each([
    { fixture: nearMissActionType, kind: EdgeKind.Injected },
    { fixture: emptyFileName, kind: EdgeKind.Injected },
    { fixture: emptyFileName, kind: EdgeKind.Connected },
    { fixture: wrongPort, kind: EdgeKind.Connected },
    { fixture: connectionFailed, kind: EdgeKind.Connected },
  ])('makes no $kind edge from events that are no evidence ($fixture.name)', ({ fixture, kind }) => {
    const graph = buildDeviceGraph(DEVICE_ID, fixture, PORTS);

    expect(graph.filterEdges((_key, attributes) => attributes.kind === kind)).toStrictEqual([]);
  });

  it('makes no edge from an event with a missing pid', () => {
    const events = {
      injections: [
        injection('i1', { timestamp: at('14:00:00.0000000'), initiatingProcessId: null }),
        injection('i2', { timestamp: at('14:00:00.0000000'), processId: null }),
      ],
      connections: [connection('c1', { timestamp: at('14:05:00.0000000'), initiatingProcessId: null })],
    };

    expect(buildDeviceGraph(DEVICE_ID, events, PORTS).size).toBe(0);
  });

  it('draws a self-injection as a loop on the process node', () => {
    const self = { initiatingProcessId: 2580, initiatingProcessFileName: 'Notepad.exe' };
    const events = { injections: [injection('i1', { timestamp: at('14:00:00.0000000'), ...self })], connections: [] };

    const graph = buildDeviceGraph(DEVICE_ID, events, PORTS);

    expect(graph.edges()).toStrictEqual([edgeKey(EdgeKind.Injected, NOTEPAD, NOTEPAD)]);
    expect(graph.getNodeAttributes(NOTEPAD)).toMatchObject({ observedNames: ['Notepad.exe', 'notepad.exe'] });
  });

  it('counts a redelivered event once', () => {
    const once = buildDeviceGraph(DEVICE_ID, basicHit, PORTS);
    const twice = buildDeviceGraph(DEVICE_ID, redelivered, PORTS);

    expect(twice.getEdgeAttribute(edgeKey(EdgeKind.Injected, RUNDLL32, NOTEPAD), 'count')).toBe(1);
    expect(twice.export()).toStrictEqual(once.export());
  });

  it('rejects an event of another device', () => {
    const other = injection('i1', { timestamp: at('14:00:00.0000000'), deviceId: 'dev-2' });
    const events = { injections: [other], connections: [] };

    expect(() => buildDeviceGraph(DEVICE_ID, events, PORTS)).toThrow(InvalidInputError);
  });
});
