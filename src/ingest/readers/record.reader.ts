/**
 * One entry point for the ingest routes: records of a body in a given format, in batches of up to
 * `batchSize`, in body order, positions continuous across batches; no record larger than
 * `maxRecordBytes` is read (PayloadTooLargeError).
 */
import { InvalidInputError } from '../../common/domain.errors.js';
import type { BodyFormat } from './body.reader.js';
import { readCsvRecords } from './csv.reader.js';
import { readJsonRecords } from './json.reader.js';
import { readNdjsonRecords } from './ndjson.reader.js';
import { DEFAULT_MAX_RECORD_BYTES } from './record.limit.js';
import type { SourceRecord } from './record.types.js';
import { readXmlRecords } from './xml.reader.js';

export { DEFAULT_MAX_RECORD_BYTES } from './record.limit.js';

export interface ReadRecordsOptions {
  batchSize: number;
  /** Largest record in bytes (see record.limit.ts for what is counted); DEFAULT_MAX_RECORD_BYTES when absent. */
  maxRecordBytes?: number;
}

type FormatReader = (body: AsyncIterable<Buffer>, maxRecordBytes: number) => AsyncGenerator<SourceRecord[]>;

const READERS: Record<BodyFormat, FormatReader> = {
  json: readJsonRecords,
  ndjson: readNdjsonRecords,
  csv: readCsvRecords,
  xml: readXmlRecords,
};

/** Throws at once for a batch size or record limit below 1. */
export function readRecords(
  body: AsyncIterable<Buffer>,
  format: BodyFormat,
  opts: ReadRecordsOptions,
): AsyncGenerator<SourceRecord[]> {
  const maxRecordBytes = opts.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
  checkPositive('batch size', opts.batchSize);
  checkPositive('record limit', maxRecordBytes);

  return rebatched(READERS[format](body, maxRecordBytes), opts.batchSize);
}

function checkPositive(what: string, value: number): void {
  if (Number.isSafeInteger(value) && value >= 1) return;

  throw new InvalidInputError(`${what} must be a positive integer, got ${value}`);
}

async function* rebatched(source: AsyncIterable<SourceRecord[]>, size: number): AsyncGenerator<SourceRecord[]> {
  let batch: SourceRecord[] = [];
  for await (const records of source) {
    for (const record of records) {
      batch.push(record);
      if (batch.length < size) continue;
      yield batch;
      batch = [];
    }
  }

  if (batch.length > 0) yield batch;
}
