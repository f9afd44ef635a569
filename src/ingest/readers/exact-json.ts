/**
 * JSON numbers are doubles once parsed: an integer beyond 2^53 (NXLog writes the Windows `Keywords` mask as
 * -9223372036854775808 on every event) comes out of JSON.parse with other digits. A record holding one keeps its
 * source text beside the parsed value, and is stored from that text, which PostgreSQL's jsonb reads exactly.
 */

/** 16 digits in a row: the shortest integer literal that can pass 2^53. A cheap test before walking the value. */
const LONG_DIGITS = /\d{16}/;

/** The record's source text when parsing it rounded an integer, else undefined (the parsed value is exact). */
export function exactTextOf(value: unknown, text: string): string | undefined {
  if (!LONG_DIGITS.test(text) || !hasUnsafeInteger(value, 0)) return undefined;

  return text;
}

function hasUnsafeInteger(value: unknown, depth: number): boolean {
  if (typeof value === 'number') return Number.isInteger(value) && !Number.isSafeInteger(value);
  if (value === null || typeof value !== 'object' || depth > 64) return false;

  for (const item of Object.values(value)) if (hasUnsafeInteger(item, depth + 1)) return true;
  return false;
}
