import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import type { BodyFormat } from '../../../src/ingest/readers/body.reader.js';
import { readRecords, type ReadRecordsOptions } from '../../../src/ingest/readers/record.reader.js';
import type { SourceRecord } from '../../../src/ingest/readers/record.types.js';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** Real public samples live beside the repository in ../shared (not copied in: their licences differ). */
export function realDataPath(relative: string): string {
  return resolve(REPO_ROOT, '../shared/data/real', relative);
}

export function realDataMissing(relative: string): boolean {
  return !existsSync(realDataPath(relative));
}

/** A suite title that says why the suite is skipped when the sample is not there. */
export function realDataTitle(title: string, relative: string): string {
  if (!realDataMissing(relative)) return title;

  return `${title} (SKIPPED: ${realDataPath(relative)} not found; clone the repository beside shared/)`;
}

export async function* streamOf(chunks: Buffer[]): AsyncGenerator<Buffer> {
  for (const chunk of chunks) yield chunk;
}

export function splitEvery(body: Buffer, size: number): Buffer[] {
  const chunks: Buffer[] = [];
  for (let k = 0; k < body.length; k += size) chunks.push(body.subarray(k, k + size));

  return chunks;
}

export function splitAt(body: Buffer, ...cuts: number[]): Buffer[] {
  const points = [0, ...cuts, body.length];

  return points.slice(1).map((end, k) => body.subarray(points[k], end));
}

/** Deterministic pseudo-random chunk sizes between 1 and `max` bytes. */
export function splitRandomly(body: Buffer, seed: number, max = 17): Buffer[] {
  const chunks: Buffer[] = [];
  let state = seed;
  for (let k = 0; k < body.length;) {
    state = (state * 1103515245 + 12345) % 2147483648;
    const size = 1 + (state % max);
    chunks.push(body.subarray(k, k + size));
    k += size;
  }

  return chunks;
}

export async function readAll(
  chunks: Buffer[],
  format: BodyFormat,
  opts: Partial<ReadRecordsOptions> = {},
): Promise<SourceRecord[]> {
  const records: SourceRecord[] = [];
  const options = { batchSize: 1000, ...opts };
  for await (const batch of readRecords(streamOf(chunks), format, options)) records.push(...batch);

  return records;
}

/** The error a read rejects with (fails the test when it does not reject). */
export async function readError(
  chunks: Buffer[],
  format: BodyFormat,
  opts: Partial<ReadRecordsOptions> = {},
): Promise<Error> {
  try {
    await readAll(chunks, format, opts);
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the read to fail');
}

/** Every way to cut `body` in two, plus 1-byte chunks and a few random splits. */
export function chunkings(body: Buffer): Array<[string, Buffer[]]> {
  const ways: Array<[string, Buffer[]]> = [['1-byte chunks', splitEvery(body, 1)]];
  for (let cut = 1; cut < body.length; cut++) ways.push([`cut at ${cut}`, splitAt(body, cut)]);
  for (const seed of [1, 7, 42, 1234]) ways.push([`random seed ${seed}`, splitRandomly(body, seed)]);

  return ways;
}
