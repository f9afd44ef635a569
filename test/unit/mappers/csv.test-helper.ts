/** CSV text → records through the product's reader, as `/api/v1/events` would read a CSV body. */
import { readRecords } from '../../../src/ingest/readers/record.reader.js';
import type { SourceRecord } from '../../../src/ingest/readers/record.types.js';

export async function readCsvText(text: string): Promise<SourceRecord[]> {
  const records: SourceRecord[] = [];
  for await (const batch of readRecords(bodyOf(text), 'csv', { batchSize: 1000 })) records.push(...batch);

  return records;
}

async function* bodyOf(text: string): AsyncGenerator<Buffer> {
  yield Buffer.from(text, 'utf8');
}
