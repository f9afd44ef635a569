import { gzipSync } from 'node:zlib';

import { describe, expect, it } from 'vitest';

import { InvalidInputError } from '../../../src/common/domain.errors.js';
import { bodyFormatOf, openBody } from '../../../src/ingest/readers/body.reader.js';
import { readRecords } from '../../../src/ingest/readers/record.reader.js';
import type { SourceRecord } from '../../../src/ingest/readers/record.types.js';
import { splitEvery, streamOf } from './reader.helpers.js';

async function batchesOf(body: Buffer, format: 'json' | 'ndjson' | 'csv' | 'xml', batchSize: number) {
  const batches: SourceRecord[][] = [];
  for await (const batch of readRecords(streamOf(splitEvery(body, 5)), format, { batchSize })) batches.push(batch);

  return batches;
}

describe('readRecords', () => {
  const rows = Array.from({ length: 23 }, (_, k) => ({ n: k }));
  const bodies = {
    json: Buffer.from(JSON.stringify(rows)),
    ndjson: Buffer.from(rows.map((row) => JSON.stringify(row)).join('\n')),
    csv: Buffer.from(['n', ...rows.map((row) => String(row.n))].join('\n')),
    xml: Buffer.from(
      rows.map((row) => `<Event><EventData><Data Name="n">${row.n}</Data></EventData></Event>`).join(''),
    ),
  };

  it.each(['json', 'ndjson', 'csv'] as const)('yields %s records in batches of up to batchSize', async (format) => {
    const batches = await batchesOf(bodies[format], format, 5);

    expect(batches.map((batch) => batch.length)).toEqual([5, 5, 5, 5, 3]);
    expect(batches.flat().map((r) => r.position)).toEqual(rows.map((_, k) => k));
    expect(batches.flat().map((r) => String(r.value.n))).toEqual(rows.map((row) => String(row.n)));
  });

  it('yields one batch when batchSize is larger than the body, and none for an empty body', async () => {
    expect((await batchesOf(bodies.ndjson, 'ndjson', 1000)).map((batch) => batch.length)).toEqual([23]);
    expect(await batchesOf(Buffer.alloc(0), 'json', 10)).toEqual([]);
  });

  it("yields xml events in batches of up to batchSize, keeping each element's text", async () => {
    const batches = await batchesOf(bodies.xml, 'xml', 5);

    expect(batches.map((batch) => batch.length)).toEqual([5, 5, 5, 5, 3]);
    expect(batches.flat().map((r) => (r.value.EventData as { n: string }).n)).toEqual(rows.map((row) => String(row.n)));
    expect(batches.flat()[7]!.text).toBe('<Event><EventData><Data Name="n">7</Data></EventData></Event>');
  });

  it.each([0, -1, 1.5, Number.NaN])('refuses batch size %s', (batchSize) => {
    expect(() => readRecords(streamOf([]), 'json', { batchSize })).toThrow(InvalidInputError);
  });

  it('reads a gzipped AH response end to end through openBody', async () => {
    const response = {
      Schema: [
        { Name: 'Timestamp', Type: 'DateTime' },
        { Name: 'RemotePort', Type: 'Int32' },
      ],
      Results: Array.from({ length: 1000 }, (_, k) => [`2024-01-01T00:00:${String(k % 60).padStart(2, '0')}Z`, k]),
    };
    const body = openBody(streamOf(splitEvery(gzipSync(JSON.stringify(response)), 333)), {
      contentEncoding: 'gzip',
      maxBytes: 1024 * 1024,
    });
    const records: SourceRecord[] = [];
    for await (const batch of readRecords(body, bodyFormatOf('application/json'), { batchSize: 300 })) {
      expect(batch.length).toBeLessThanOrEqual(300);
      records.push(...batch);
    }

    expect(records).toHaveLength(1000);
    const last = { Timestamp: '2024-01-01T00:00:39Z', RemotePort: 999 };
    expect(records[999]).toEqual({ position: 999, line: 1, value: last });
  });
});
