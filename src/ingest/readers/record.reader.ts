/**
 * One entry point for the ingest routes: records of a body in a given format, in batches of up to
 * `batchSize`, in body order, positions continuous across batches.
 */
import { InvalidInputError, UnsupportedMediaTypeError } from '../../common/domain.errors.js';
import type { BodyFormat } from './body.reader.js';
import { readCsvRecords } from './csv.reader.js';
import { readJsonRecords } from './json.reader.js';
import { readNdjsonRecords } from './ndjson.reader.js';
import type { SourceRecord } from './record.types.js';

export interface ReadRecordsOptions {
  batchSize: number;
}

type FormatReader = (body: AsyncIterable<Buffer>) => AsyncGenerator<SourceRecord[]>;

const READERS: Record<Exclude<BodyFormat, 'xml'>, FormatReader> = {
  json: readJsonRecords,
  ndjson: readNdjsonRecords,
  csv: readCsvRecords,
};

/** Throws at once for a format no reader handles here (xml) or a batch size below 1. */
export function readRecords(
  body: AsyncIterable<Buffer>,
  format: BodyFormat,
  opts: ReadRecordsOptions,
): AsyncGenerator<SourceRecord[]> {
  // TODO: Windows event XML (EVTX exports of Sysmon) needs a reader of its own; until one exists no route reads XML.
  if (format === 'xml') throw new UnsupportedMediaTypeError('application/xml is not accepted on this route');
  if (!Number.isSafeInteger(opts.batchSize) || opts.batchSize < 1) {
    throw new InvalidInputError(`batch size must be a positive integer, got ${opts.batchSize}`);
  }

  return rebatched(READERS[format](body), opts.batchSize);
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
