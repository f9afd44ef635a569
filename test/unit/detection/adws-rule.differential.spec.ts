import { describe, expect, it } from 'vitest';

import {
  generateAdwsEvents,
  referenceAlertCandidates,
  referencePart,
  settingsForSeed,
} from '../../support/adws-reference.js';
import { detectPerDevice } from './detect-per-device.js';

const SEEDS = Array.from({ length: 60 }, (_, i) => 1000 + i);

describe('ADWS rule against the brute-force reference', () => {
  it.each(SEEDS)('seed %i gives the reference candidates', (seed) => {
    const settings = settingsForSeed(seed);
    const events = generateAdwsEvents(seed, { events: 2000, timeframeMinutes: settings.timeframeMinutes });

    const expected = referenceAlertCandidates(events, settings);
    const actual = detectPerDevice(events, settings).map((c) => referencePart(c as unknown as Record<string, unknown>));

    expect(expected.length).toBeGreaterThan(0);
    expect(actual).toStrictEqual(expected);
  });
});
