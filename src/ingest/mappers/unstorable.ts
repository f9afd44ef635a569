import { ExactJson } from '../event.types.js';

/**
 * What a mapper checks before it keeps a record as `raw`: values PostgreSQL or JSON cannot hold as received.
 * Shared by the source mappers so every source refuses the same things with the same wording.
 */

/** Deepest nesting of arrays and objects kept in `raw` (real Defender rows nest two or three levels). */
const MAX_NESTING = 64;

export interface Unstorable {
  field: string;
  message: string;
}

/**
 * The first value that cannot be stored as received: a NUL character or an unpaired UTF-16 surrogate (PostgreSQL's
 * text and jsonb refuse both), an integer that JSON parsing already rounded, or nesting deeper than MAX_NESTING.
 */
export function findUnstorable(value: unknown, path = '', depth = 0, numbersExact = false): Unstorable | null {
  if (typeof value === 'string') return textProblem(value, path || '(record)');
  if (typeof value === 'number') return numbersExact ? null : numberProblem(value, path || '(record)');
  if (value === null || typeof value !== 'object') return null;
  if (depth >= MAX_NESTING) return { field: path || '(record)', message: `nested deeper than ${MAX_NESTING} levels` };

  for (const [key, item] of Object.entries(value)) {
    const itemPath = path ? `${path}.${key}` : key;
    const found = textProblem(key, itemPath) ?? findUnstorable(item, itemPath, depth + 1, numbersExact);
    if (found !== null) return found;
  }
  return null;
}

/** An integer past 2^53 has already lost digits in JSON.parse: storing it would not be lossless. */
function numberProblem(value: number, field: string): Unstorable | null {
  if (!Number.isInteger(value) || Number.isSafeInteger(value)) return null;

  return {
    field,
    message: `${field} is an integer beyond 2^53 that JSON numbers cannot carry exactly; send it as a string`,
  };
}

function textProblem(text: string, field: string): Unstorable | null {
  if (text.includes('\u0000'))
    return { field, message: `${field} contains a NUL character, which PostgreSQL cannot store` };
  if (!(text as string & { isWellFormed(): boolean }).isWellFormed()) {
    return { field, message: `${field} contains an unpaired UTF-16 surrogate, which is not valid Unicode` };
  }
  return null;
}

/**
 * What a mapper stores as `raw` for a JSON record, and the first reason it cannot: the record's source text when
 * the reader kept it (an integer parsing rounded is then stored exactly, so only its text is checked), else the
 * parsed value, where such an integer is refused.
 */
export function rawOfJsonRecord(record: { value: unknown; text?: string }): {
  raw: unknown;
  unstorable: Unstorable | null;
} {
  if (record.text === undefined) return { raw: record.value, unstorable: findUnstorable(record.value) };

  return { raw: new ExactJson(record.text), unstorable: findUnstorable(record.value, '', 0, true) };
}
