/** A timestamptz column as ISO 8601 UTC: `pg` returns Date objects, PGlite may return text. */
export function isoOf(value: unknown): string {
  return value instanceof Date ? value.toISOString() : new Date(String(value)).toISOString();
}

/** As isoOf, for a nullable column. */
export function isoOrNull(value: unknown): string | null {
  return value === null || value === undefined ? null : isoOf(value);
}
