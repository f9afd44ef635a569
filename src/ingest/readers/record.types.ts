/** One record read from a request body, before any source mapping. */
export interface SourceRecord {
  /** 0-based index of the record in the body, continuous across batches. */
  position: number;
  /** 1-based line where the record starts, where the format has lines. */
  line?: number;
  value: Record<string, unknown>;
  /**
   * The record's source text, where the parsed value cannot be stored losslessly: an XML element, or a JSON
   * record holding an integer beyond 2^53 that parsing rounded (see exact-json.ts).
   */
  text?: string;
  /** Set when this one record is broken (its `value` is then `{}`) but the rest of the body can go on. */
  error?: string;
}

/** A place in a body: 1-based line and column (columns count bytes), 0-based byte offset. */
export interface TextPlace {
  line: number;
  column: number;
  offset: number;
}
