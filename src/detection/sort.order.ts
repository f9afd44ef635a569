import type { EvidenceRef } from '../vocabulary/graph.vocabulary.js';
import { evidenceId } from './event.filters.js';

/** Code-unit order, independent of locale. */
export function compareStrings(a: string, b: string): number {
  if (a === b) return 0;

  return a < b ? -1 : 1;
}

export function compareNumbers(a: number, b: number): number {
  return a - b;
}

export function compareEvidence(a: EvidenceRef, b: EvidenceRef): number {
  return compareStrings(evidenceId(a), evidenceId(b));
}

/** Canonical timestamps order as strings; the evidence breaks ties so any input order gives one order. */
export function compareOccurrences(
  a: { timestamp: string; evidence: EvidenceRef },
  b: { timestamp: string; evidence: EvidenceRef },
): number {
  return compareStrings(a.timestamp, b.timestamp) || compareEvidence(a.evidence, b.evidence);
}

/** Distinct values, sorted. */
export function sortedDistinct(values: Iterable<string>): string[] {
  return [...new Set(values)].sort(compareStrings);
}
