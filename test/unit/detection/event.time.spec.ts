import { describe, expect, it } from 'vitest';

import { InvalidInputError } from '../../../src/common/domain.errors.js';
import { minutesToTicks, parseEventTime, ticksBetween } from '../../../src/detection/event.time.js';

describe('event times', () => {
  it('measures differences to the 100 ns tick, across midnight', () => {
    const before = parseEventTime('2023-10-18T23:59:59.9999999Z');
    const after = parseEventTime('2023-10-19T00:00:00.0000001Z');

    expect(ticksBetween(before, after)).toBe(2);
    expect(ticksBetween(after, before)).toBe(-2);
  });

  it('measures exactly two hours as 120 minutes of ticks', () => {
    const from = parseEventTime('2023-10-18T10:00:00.1234567Z');
    const to = parseEventTime('2023-10-18T12:00:00.1234567Z');

    expect(ticksBetween(from, to)).toBe(minutesToTicks(120));
  });

  it('pads short fractions and accepts none', () => {
    expect(parseEventTime('2023-10-18T10:00:00.5Z')).toStrictEqual(parseEventTime('2023-10-18T10:00:00.5000000Z'));
    expect(parseEventTime('2023-10-18T10:00:00Z').ticks).toBe(0);
  });

  it.each(['2023-10-18 10:00:00', '2023-10-18T10:00:00+02:00', 'yesterday', '2023-13-45T10:00:00Z'])(
    'rejects %s',
    (value) => {
      expect(() => parseEventTime(value)).toThrow(InvalidInputError);
    },
  );
});
