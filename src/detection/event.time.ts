import { InvalidInputError } from '../common/domain.errors.js';

/** 100-nanosecond ticks per unit: the precision of a canonical timestamp. */
const TICKS_PER_SECOND = 10_000_000;
const TICKS_PER_MINUTE = 60 * TICKS_PER_SECOND;
const FRACTION_DIGITS = 7;

const CANONICAL_TIME = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?Z$/;

/**
 * An instant split into whole epoch seconds and ticks inside that second, so differences stay exact
 * (epoch ticks as one number would pass 2^53).
 */
export interface EventInstant {
  seconds: number;
  ticks: number;
}

/** Parses a canonical ISO UTC time (`2023-10-18T14:37:28.2012261Z`); fractions beyond 7 digits are cut. */
export function parseEventTime(timestamp: string): EventInstant {
  const match = CANONICAL_TIME.exec(timestamp);
  const epochMs = match ? Date.parse(`${match[1]}Z`) : Number.NaN;
  if (!match || Number.isNaN(epochMs)) {
    throw new InvalidInputError('timestamp is not a canonical ISO UTC time', { timestamp });
  }

  const fraction = (match[2] ?? '').slice(0, FRACTION_DIGITS).padEnd(FRACTION_DIGITS, '0');

  return { seconds: epochMs / 1000, ticks: Number(fraction) };
}

/** `later - earlier` in ticks; exact while the two are less than about 28 years apart. */
export function ticksBetween(earlier: EventInstant, later: EventInstant): number {
  return (later.seconds - earlier.seconds) * TICKS_PER_SECOND + (later.ticks - earlier.ticks);
}

export function secondsToTicks(seconds: number): number {
  return seconds * TICKS_PER_SECOND;
}

export function minutesToTicks(minutes: number): number {
  return minutes * TICKS_PER_MINUTE;
}

/** The canonical time `ticks` (100 ns units, either sign) after `timestamp`. */
export function shiftTime(timestamp: string, ticks: number): string {
  const at = parseEventTime(timestamp);
  const total = at.ticks + ticks;
  const seconds = at.seconds + Math.floor(total / TICKS_PER_SECOND);
  const rest = ((total % TICKS_PER_SECOND) + TICKS_PER_SECOND) % TICKS_PER_SECOND;

  return `${new Date(seconds * 1000).toISOString().slice(0, 19)}.${String(rest).padStart(FRACTION_DIGITS, '0')}Z`;
}
