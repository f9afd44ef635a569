import { describe, expect, it } from 'vitest';

import { buildDeviceGraph } from '../../../src/detection/graph.builder.js';
import { findInjectionPaths } from '../../../src/detection/path.finder.js';
import { DEFAULT_ADWS_RULE_SETTINGS, type AdwsRuleSettings } from '../../../src/rules/rule.types.js';
import { adwsEndpointNodeKey, EdgeKind, edgeKey, processNodeKey } from '../../../src/vocabulary/graph.vocabulary.js';
import { basicHit } from '../../fixtures/graphs/basic-hit.fixture.js';
import { excludedCsrss } from '../../fixtures/graphs/excluded-csrss.fixture.js';
import { DEVICE_ID } from '../../fixtures/graphs/graph.fixture.js';
import { twoInjectors } from '../../fixtures/graphs/two-injectors.fixture.js';

const NOTEPAD = processNodeKey(DEVICE_ID, 2580, 'notepad.exe');
const RUNDLL32 = processNodeKey(DEVICE_ID, 4120, 'rundll32.exe');
const POWERSHELL = processNodeKey(DEVICE_ID, 5200, 'powershell.exe');
const ADWS_5 = adwsEndpointNodeKey(DEVICE_ID, '10.0.0.5', 9389);

function eventKeys(occurrences: { evidence: { eventKey: string } }[]): string[] {
  return occurrences.map((o) => o.evidence.eventKey.split(':').pop()!);
}

function settings(overrides: Partial<AdwsRuleSettings>): AdwsRuleSettings {
  return { ...DEFAULT_ADWS_RULE_SETTINGS, ...overrides };
}

describe('findInjectionPaths', () => {
  it('names the nodes, edges and occurrences of the basic path', () => {
    const graph = buildDeviceGraph(DEVICE_ID, basicHit, [9389]);

    const paths = findInjectionPaths(graph, DEFAULT_ADWS_RULE_SETTINGS);

    expect(paths).toHaveLength(1);
    expect(paths[0]).toMatchObject({
      deviceId: DEVICE_ID,
      deviceName: 'ws01.corp.example',
      injectorKey: RUNDLL32,
      targetKey: NOTEPAD,
      endpointKey: ADWS_5,
      nodeKeys: [RUNDLL32, NOTEPAD, ADWS_5],
      edgeKeys: [edgeKey(EdgeKind.Injected, RUNDLL32, NOTEPAD), edgeKey(EdgeKind.Connected, NOTEPAD, ADWS_5)],
    });
    expect(paths[0]!.injections).toStrictEqual(graph.getEdgeAttribute(paths[0]!.edgeKeys[0], 'occurrences'));
    expect(paths[0]!.connections).toStrictEqual(graph.getEdgeAttribute(paths[0]!.edgeKeys[1], 'occurrences'));
  });

  it('skips excluded occurrences that are still edges of the graph', () => {
    const graph = buildDeviceGraph(DEVICE_ID, excludedCsrss, [9389]);

    const targets = findInjectionPaths(graph, DEFAULT_ADWS_RULE_SETTINGS).map((p) => p.targetKey);

    expect(targets).toStrictEqual([
      processNodeKey(DEVICE_ID, 3100, 'calc.exe'),
      processNodeKey(DEVICE_ID, 3200, 'mspaint.exe'),
    ]);
  });

  it('applies exclusions from settings, not only the defaults', () => {
    const graph = buildDeviceGraph(DEVICE_ID, twoInjectors, [9389]);
    const byName = {
      description: 'test',
      injectorFileName: 'POWERSHELL.EXE',
      injectorFolderPath: null,
      targetFileName: null,
      deviceId: null,
    };

    const paths = findInjectionPaths(graph, settings({ exclusions: [{ ...byName, folderPathMatch: 'equals' }] }));

    expect(paths.map((p) => p.injectorKey)).toStrictEqual([RUNDLL32, RUNDLL32]);
  });

  it('keeps only the occurrences paired within the timeframe', () => {
    const graph = buildDeviceGraph(DEVICE_ID, twoInjectors, [9389]);

    const paths = findInjectionPaths(graph, settings({ timeframeMinutes: 10 }));

    const summary = paths.map((p) => [p.injectorKey, p.endpointKey, eventKeys(p.injections), eventKeys(p.connections)]);

    expect(summary).toStrictEqual([
      [RUNDLL32, ADWS_5, ['i1'], ['c1']],
      [POWERSHELL, ADWS_5, ['i2', 'i3'], ['c1']],
    ]);
  });

  it('walks only endpoints on the configured ports', () => {
    const graph = buildDeviceGraph(DEVICE_ID, basicHit, [9389, 389]);

    expect(findInjectionPaths(graph, settings({ adwsPorts: [389] }))).toStrictEqual([]);
  });
});
