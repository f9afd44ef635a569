import { describe, expect, it } from 'vitest';

import type { AlertCandidate, AlertExplanation } from '../../../src/detection/alert.types.js';

/** What rules 1-6 state; the explanation (paths, exclusions) is checked on its own below. */
type Detected = Omit<AlertCandidate, keyof AlertExplanation>;
import { ADWS_RULE_ID, DEFAULT_ADWS_RULE_SETTINGS, type AdwsRuleSettings } from '../../../src/rules/rule.types.js';
import {
  adwsEndpointNodeKey,
  EventTable,
  processNodeKey,
  type EvidenceRef,
} from '../../../src/vocabulary/graph.vocabulary.js';
import { basicHit } from '../../fixtures/graphs/basic-hit.fixture.js';
import { caseInsensitive } from '../../fixtures/graphs/case-insensitive.fixture.js';
import { excludedCsrss } from '../../fixtures/graphs/excluded-csrss.fixture.js';
import { at, DEVICE_ID, type GraphFixture } from '../../fixtures/graphs/graph.fixture.js';
import { emptyFileName, samePidOtherDevice } from '../../fixtures/graphs/identity-mismatch.fixture.js';
import { miiserverPrefix } from '../../fixtures/graphs/miiserver-prefix.fixture.js';
import { nearMissActionType } from '../../fixtures/graphs/near-miss-action-type.fixture.js';
import { connectionFailed, wrongPort } from '../../fixtures/graphs/non-adws-connections.fixture.js';
import { redelivered } from '../../fixtures/graphs/redelivered.fixture.js';
import { connectionBeforeInjection, timeframeBoundary } from '../../fixtures/graphs/timeframe.fixture.js';
import { twoDeviceNames } from '../../fixtures/graphs/two-device-names.fixture.js';
import { twoInjectors } from '../../fixtures/graphs/two-injectors.fixture.js';
import { vmtoolsdPrefix } from '../../fixtures/graphs/vmtoolsd-prefix.fixture.js';
import { detectPerDevice } from './detect-per-device.js';

const REFERENCE: AdwsRuleSettings = { ...DEFAULT_ADWS_RULE_SETTINGS, mode: 'reference' };

const SYSTEM32 = 'c:\\windows\\system32';
const ADWS = adwsEndpointNodeKey(DEVICE_ID, '10.0.0.5', 9389);

function injectionRef(id: string, time: string): EvidenceRef {
  return { table: EventTable.DeviceEvents, deviceId: DEVICE_ID, eventKey: `r:${at(time)}:${id}` };
}

function connectionRef(id: string, time: string): EvidenceRef {
  return { table: EventTable.DeviceNetworkEvents, deviceId: DEVICE_ID, eventKey: `r:${at(time)}:${id}` };
}

function processKey(processId: number, fileName: string): string {
  return processNodeKey(DEVICE_ID, processId, fileName);
}

function adwsConnection(time: string, remoteIp = '10.0.0.5', localPort = 50123) {
  return { timestamp: at(time), remoteIp, remotePort: 9389, localIp: '10.0.0.20', localPort };
}

/** The basic hit's alert; other expectations state every field they change. */
const basicAlert: Detected = {
  ruleId: ADWS_RULE_ID,
  deviceId: DEVICE_ID,
  deviceName: 'ws01.corp.example',
  hostName: 'ws01',
  dnsDomain: 'corp.example',
  timestamp: at('14:05:00.0000000'),
  processId: 2580,
  fileName: 'notepad.exe',
  injectionMethods: ['CreateRemoteThreadApiCall'],
  injectors: [
    {
      processId: 4120,
      fileName: 'rundll32.exe',
      folderPath: SYSTEM32,
      actionTypes: ['CreateRemoteThreadApiCall'],
      firstSeen: at('14:00:00.0000000'),
      lastSeen: at('14:00:00.0000000'),
    },
  ],
  connections: [adwsConnection('14:05:00.0000000')],
  evidence: [injectionRef('i1', '14:00:00.0000000'), connectionRef('c1', '14:05:00.0000000')],
  nodeKeys: [ADWS, processKey(2580, 'notepad.exe'), processKey(4120, 'rundll32.exe')],
};

/** An alert on `target` from one injector whose single injection is `injectionId` at 14:00-ish. */
function singleInjectorAlert(spec: {
  target: [number, string];
  injector: [number, string, string | null];
  injected: [string, string];
  connected: [string, string];
}): Detected {
  const [processId, fileName] = spec.target;
  const [injectorId, injectorName, folderPath] = spec.injector;
  const [injectionId, injectedAt] = spec.injected;
  const [connectionId, connectedAt] = spec.connected;
  const injector = { processId: injectorId, fileName: injectorName, folderPath };
  const seen = { firstSeen: at(injectedAt), lastSeen: at(injectedAt) };

  return {
    ...basicAlert,
    timestamp: at(connectedAt),
    processId,
    fileName,
    injectors: [{ ...injector, actionTypes: ['CreateRemoteThreadApiCall'], ...seen }],
    connections: [adwsConnection(connectedAt)],
    evidence: [injectionRef(injectionId, injectedAt), connectionRef(connectionId, connectedAt)],
    nodeKeys: [ADWS, processKey(processId, fileName), processKey(injectorId, injectorName)].sort(),
  };
}

const cases: { fixture: GraphFixture; expected: Detected[] }[] = [
  { fixture: basicHit, expected: [basicAlert] },
  {
    fixture: excludedCsrss,
    expected: [
      singleInjectorAlert({
        target: [3100, 'calc.exe'],
        injector: [610, 'csrss.exe', 'c:\\users\\public'],
        injected: ['i3', '14:02:00.0000000'],
        connected: ['c2', '14:11:00.0000000'],
      }),
      singleInjectorAlert({
        target: [3200, 'mspaint.exe'],
        injector: [620, 'csrss.exe', null],
        injected: ['i4', '14:03:00.0000000'],
        connected: ['c3', '14:12:00.0000000'],
      }),
    ],
  },
  {
    fixture: vmtoolsdPrefix,
    expected: [
      singleInjectorAlert({
        target: [3100, 'calc.exe'],
        injector: [910, 'vmtoolsd.exe', 'c:\\temp'],
        injected: ['i2', '14:00:00.0000000'],
        connected: ['c2', '14:10:00.0000000'],
      }),
      singleInjectorAlert({
        target: [3200, 'mspaint.exe'],
        injector: [920, 'notvmtoolsd.exe', 'c:\\program files\\vmware\\vmware tools'],
        injected: ['i3', '14:00:00.0000000'],
        connected: ['c3', '14:10:00.0000000'],
      }),
    ],
  },
  {
    fixture: miiserverPrefix,
    expected: [
      singleInjectorAlert({
        target: [3100, 'calc.exe'],
        injector: [710, 'miiserver.exe', 'c:\\program files\\microsoft azure ad sync'],
        injected: ['i2', '14:00:00.0000000'],
        connected: ['c2', '14:10:00.0000000'],
      }),
    ],
  },
  {
    fixture: caseInsensitive,
    expected: [
      {
        ...basicAlert,
        injectionMethods: ['CreateRemoteThreadApiCall', 'QueueUserApcRemoteApiCall'],
        injectors: [
          {
            processId: 4120,
            fileName: 'RunDll32.EXE',
            folderPath: SYSTEM32,
            actionTypes: ['CreateRemoteThreadApiCall', 'QueueUserApcRemoteApiCall'],
            firstSeen: at('14:00:00.0000000'),
            lastSeen: at('14:01:00.0000000'),
          },
        ],
        evidence: [
          injectionRef('i1', '14:00:00.0000000'),
          injectionRef('i2', '14:01:00.0000000'),
          connectionRef('c1', '14:05:00.0000000'),
        ],
      },
    ],
  },
  { fixture: wrongPort, expected: [] },
  { fixture: connectionFailed, expected: [] },
  { fixture: nearMissActionType, expected: [] },
  { fixture: samePidOtherDevice, expected: [] },
  { fixture: emptyFileName, expected: [] },
  {
    fixture: timeframeBoundary,
    expected: [
      singleInjectorAlert({
        target: [2580, 'notepad.exe'],
        injector: [4120, 'rundll32.exe', SYSTEM32],
        injected: ['i-2580', '10:00:00.0000000'],
        connected: ['c-2580', '12:00:00.0000000'],
      }),
      singleInjectorAlert({
        target: [3300, 'cmd.exe'],
        injector: [4120, 'rundll32.exe', SYSTEM32],
        injected: ['i-3300', '10:00:00.0000000'],
        connected: ['c-3300', '08:00:00.0000000'],
      }),
    ],
  },
  {
    fixture: connectionBeforeInjection,
    expected: [
      {
        ...basicAlert,
        timestamp: at('13:50:00.0000000'),
        connections: [adwsConnection('13:50:00.0000000')],
        evidence: [injectionRef('i1', '14:00:00.0000000'), connectionRef('c1', '13:50:00.0000000')],
      },
    ],
  },
  {
    fixture: twoInjectors,
    expected: [
      {
        ...basicAlert,
        timestamp: at('14:10:00.0000000'),
        injectionMethods: ['CreateRemoteThreadApiCall', 'NtMapViewOfSectionRemoteApiCall', 'QueueUserApcRemoteApiCall'],
        injectors: [
          basicAlert.injectors[0]!,
          {
            processId: 5200,
            fileName: 'PowerShell.exe',
            folderPath: 'c:\\windows\\system32\\windowspowershell\\v1.0',
            actionTypes: ['NtMapViewOfSectionRemoteApiCall', 'QueueUserApcRemoteApiCall'],
            firstSeen: at('14:01:00.0000000'),
            lastSeen: at('14:02:00.0000000'),
          },
        ],
        connections: [adwsConnection('14:10:00.0000000'), adwsConnection('14:20:00.0000000', '10.0.0.6', 50200)],
        evidence: [
          injectionRef('i1', '14:00:00.0000000'),
          injectionRef('i2', '14:01:00.0000000'),
          injectionRef('i3', '14:02:00.0000000'),
          connectionRef('c1', '14:10:00.0000000'),
          connectionRef('c2', '14:20:00.0000000'),
        ],
        nodeKeys: [
          ADWS,
          adwsEndpointNodeKey(DEVICE_ID, '10.0.0.6', 9389),
          processKey(2580, 'notepad.exe'),
          processKey(4120, 'rundll32.exe'),
          processKey(5200, 'powershell.exe'),
        ],
      },
    ],
  },
  {
    fixture: twoDeviceNames,
    expected: [
      { name: '', host: '', domain: '', id: 'c3', time: '14:07:00.0000000' },
      { name: 'WS01', host: 'WS01', domain: '', id: 'c2', time: '14:06:00.0000000' },
      { name: 'ws01.corp.example', host: 'ws01', domain: 'corp.example', id: 'c1', time: '14:05:00.0000000' },
    ].map(({ name, host, domain, id, time }) => ({
      ...basicAlert,
      deviceName: name,
      hostName: host,
      dnsDomain: domain,
      timestamp: at(time),
      connections: [adwsConnection(time)],
      evidence: [injectionRef('i1', '14:00:00.0000000'), connectionRef(id, time)],
    })),
  },
  { fixture: redelivered, expected: [basicAlert] },
];

function detected(candidate: AlertCandidate): Detected {
  const { mode, processKey, path, paths, viaDescendant, evidenceGaps, exclusionsConsidered, ...rest } = candidate;

  return rest;
}

describe('ADWS rule on named graph fixtures (reference mode)', () => {
  it.each(cases)('$fixture.name', ({ fixture, expected }) => {
    expect(detectPerDevice(fixture, REFERENCE).map(detected)).toStrictEqual(expected);
  });

  it.each(cases)('$fixture.name: the paths cite exactly the evidence, and name the target', ({ fixture }) => {
    for (const candidate of detectPerDevice(fixture, REFERENCE)) {
      const cited = candidate.paths.flatMap((p) => p.edges.flatMap((e) => e.evidence));
      const distinct = [...new Map(cited.map((e) => [JSON.stringify(e), e])).values()];

      expect(candidate.mode).toBe('reference');
      expect(candidate.path).toEqual(candidate.paths[0]);
      expect(new Set(distinct.map((e) => JSON.stringify(e)))).toEqual(
        new Set(candidate.evidence.map((e) => JSON.stringify(e))),
      );
      for (const path of candidate.paths) {
        expect(path.nodes.at(-1)!.kind).toBe('adwsEndpoint');
        expect(path.nodes.at(-2)).toMatchObject({ processId: candidate.processId, fileName: candidate.fileName });
      }
      expect(candidate.exclusionsConsidered.map((e) => e.description)).toEqual(
        DEFAULT_ADWS_RULE_SETTINGS.exclusions.map((e) => e.description),
      );
    }
  });
});
