import { describe, expect, it } from 'vitest';

import { detectAlertCandidates } from '../../../src/detection/adws-rule.detector.js';
import { exportGraph } from '../../../src/graph/graph.export.js';
import { generateAdwsEvents, settingsForSeed } from '../../support/adws-reference.js';
import { seededRandom } from '../../support/random.js';
import { detectPerDevice, graphsPerDevice, type EventSet } from './detect-per-device.js';

const SEEDS = [21, 22, 23, 24, 25, 26];

/** The same events shuffled, with about a fifth delivered twice (as fresh copies). */
function shuffledWithRedeliveries(events: EventSet, seed: number): EventSet {
  const random = seededRandom(seed);
  const again = <E extends object>(list: readonly E[]) =>
    random.shuffle([...list, ...list.filter(() => random.chance(0.2)).map((e) => ({ ...e }))]);

  return { injections: again(events.injections), connections: again(events.connections) };
}

function exports(events: EventSet, ports: number[], format: 'json' | 'gexf') {
  return [...graphsPerDevice(events, ports).values()].map((graph) => exportGraph(graph, format).body);
}

describe('ADWS rule idempotency and order independence', () => {
  it.each(SEEDS)('seed %i: shuffled and redelivered events give the same candidates and graphs', (seed) => {
    const settings = settingsForSeed(seed);
    const events = generateAdwsEvents(seed, { events: 1500, timeframeMinutes: settings.timeframeMinutes });
    const noisy = shuffledWithRedeliveries(events, seed + 1);

    expect(detectPerDevice(noisy, settings)).toStrictEqual(detectPerDevice(events, settings));
    expect(exports(noisy, settings.adwsPorts, 'json')).toStrictEqual(exports(events, settings.adwsPorts, 'json'));
    expect(exports(noisy, settings.adwsPorts, 'gexf')).toStrictEqual(exports(events, settings.adwsPorts, 'gexf'));
  });

  it('derives the same candidates when run twice on one graph', () => {
    const settings = settingsForSeed(30);
    const events = generateAdwsEvents(30, { timeframeMinutes: settings.timeframeMinutes });

    for (const graph of graphsPerDevice(events, settings.adwsPorts).values()) {
      expect(detectAlertCandidates(graph, settings)).toStrictEqual(detectAlertCandidates(graph, settings));
    }
  });

  it('retracts exactly the alert whose connections are removed', () => {
    const settings = settingsForSeed(33);
    const events = generateAdwsEvents(33, { timeframeMinutes: settings.timeframeMinutes });
    const before = detectPerDevice(events, settings);
    const [retracted, ...kept] = before;
    const removed = new Set(retracted!.evidence.map((ref) => `${ref.deviceId}|${ref.eventKey}`));

    const connections = events.connections.filter((e) => !removed.has(`${e.deviceId}|${e.eventKey}`));
    const after = detectPerDevice({ injections: events.injections, connections }, settings);

    expect(kept.length).toBeGreaterThan(0);
    expect(after).toStrictEqual(kept);
  });
});
