import { describe, expect, it } from 'vitest';

import { NotFoundError } from '../../../src/common/domain.errors.js';
import { alertSubgraph, detectAlertCandidates } from '../../../src/detection/adws-rule.detector.js';
import type { AlertCandidate } from '../../../src/detection/alert.types.js';
import type { DeviceGraph } from '../../../src/detection/graph.builder.js';
import { buildDeviceGraph } from '../../../src/detection/graph.builder.js';
import { DEFAULT_ADWS_RULE_SETTINGS, type AdwsRuleSettings } from '../../../src/rules/rule.types.js';

const REFERENCE: AdwsRuleSettings = { ...DEFAULT_ADWS_RULE_SETTINGS, mode: 'reference' };
import {
  adwsEndpointNodeKey,
  EdgeKind,
  edgeKey,
  processNodeKey,
  type EvidenceRef,
} from '../../../src/vocabulary/graph.vocabulary.js';
import { generateAdwsEvents, settingsForSeed } from '../../support/adws-reference.js';
import { at, DEVICE_ID } from '../../fixtures/graphs/graph.fixture.js';
import { twoDeviceNames } from '../../fixtures/graphs/two-device-names.fixture.js';
import { twoInjectors } from '../../fixtures/graphs/two-injectors.fixture.js';
import { graphsPerDevice } from './detect-per-device.js';

const NOTEPAD = processNodeKey(DEVICE_ID, 2580, 'notepad.exe');
const POWERSHELL = processNodeKey(DEVICE_ID, 5200, 'powershell.exe');

function citedEvidence(graph: DeviceGraph): EvidenceRef[] {
  return graph
    .mapEdges((_key, attributes) => attributes.occurrences.map((o: { evidence: EvidenceRef }) => o.evidence))
    .flat();
}

function sortRefs(refs: EvidenceRef[]): EvidenceRef[] {
  const id = (r: EvidenceRef) => `${r.table}\u0000${r.deviceId}\u0000${r.eventKey}`;
  return [...refs].sort((a, b) => (id(a) < id(b) ? -1 : id(a) > id(b) ? 1 : 0));
}

describe('alertSubgraph', () => {
  it('keeps the alert nodes and only the occurrences the alert cites', () => {
    const graph = buildDeviceGraph(DEVICE_ID, twoInjectors, [9389]);
    const [candidate] = detectAlertCandidates(graph, REFERENCE);

    const subgraph = alertSubgraph(graph, candidate!);

    expect(subgraph.nodes()).toStrictEqual(candidate!.nodeKeys);
    expect(subgraph.size).toBe(4);
    expect(graph.getEdgeAttribute(edgeKey(EdgeKind.Injected, POWERSHELL, NOTEPAD), 'count')).toBe(3);
    expect(subgraph.getEdgeAttributes(edgeKey(EdgeKind.Injected, POWERSHELL, NOTEPAD))).toMatchObject({
      actionTypes: ['NtMapViewOfSectionRemoteApiCall', 'QueueUserApcRemoteApiCall'],
      firstSeen: at('14:01:00.0000000'),
      lastSeen: at('14:02:00.0000000'),
      count: 2,
    });
    expect(sortRefs(citedEvidence(subgraph))).toStrictEqual(candidate!.evidence);
  });

  it('keeps only the connections of the alert device name', () => {
    const graph = buildDeviceGraph(DEVICE_ID, twoDeviceNames, [9389]);
    const candidate = detectAlertCandidates(graph, REFERENCE).find((c) => c.deviceName === 'WS01')!;
    const connected = edgeKey(EdgeKind.Connected, NOTEPAD, adwsEndpointNodeKey(DEVICE_ID, '10.0.0.5', 9389));

    const subgraph = alertSubgraph(graph, candidate);

    expect(graph.getEdgeAttribute(connected, 'count')).toBe(3);
    expect(subgraph.getEdgeAttribute(connected, 'occurrences').map((o) => o.deviceName)).toStrictEqual(['WS01']);
  });

  it('throws NotFoundError when the alert names a node the graph lacks', () => {
    const graph = buildDeviceGraph(DEVICE_ID, twoInjectors, [9389]);

    expect(() => alertSubgraph(graph, { evidence: [], nodeKeys: ['process:dev-1:1:gone.exe'] })).toThrow(NotFoundError);
  });

  it('explains every generated alert: its subgraph alone derives the same alert', () => {
    for (const seed of [7, 8, 9]) {
      const settings = settingsForSeed(seed);
      const events = generateAdwsEvents(seed, { events: 1500, timeframeMinutes: settings.timeframeMinutes });
      for (const graph of graphsPerDevice(events, settings.adwsPorts).values()) {
        for (const candidate of detectAlertCandidates(graph, settings)) {
          const subgraph = alertSubgraph(graph, candidate);

          expect(sortRefs(citedEvidence(subgraph))).toStrictEqual(candidate.evidence);
          // Excluded injections are not cited, so the subgraph reports none held back; everything else is equal.
          const withoutExclusions = ({ exclusionsConsidered: _, ...rest }: AlertCandidate) => rest;
          expect(detectAlertCandidates(subgraph, settings).map(withoutExclusions)).toStrictEqual([
            withoutExclusions(candidate),
          ]);
        }
      }
    }
  });
});
