/**
 * Throughput of the body readers on one core: 200k generated records per format, fed in 64 KiB
 * chunks as an HTTP body would arrive. Prints records/s and MB/s. Not a test: numbers vary by machine.
 *
 *   npm run build && node dist/bench/readers.bench.js [records]
 */
import { gzipSync } from 'node:zlib';

import { openBody } from '../src/ingest/readers/body.reader.js';
import { readRecords } from '../src/ingest/readers/record.reader.js';

type Format = 'json' | 'ndjson' | 'csv';

const COUNT = Number(process.argv[2] ?? 200_000);
const CHUNK = 64 * 1024;
const CSV_COLUMNS = 72;

/** A DeviceEvents-like row of about 1 KB, with Windows paths and a JSON text field. */
function eventRow(k: number): Record<string, unknown> {
  return {
    Timestamp: `2024-05-01T10:${String(k % 60).padStart(2, '0')}:00.1234567Z`,
    DeviceId: `d${(k % 500).toString(16).padStart(39, '0')}`,
    DeviceName: `workstation${k % 500}.corp.example`,
    ActionType: k % 2 ? 'CreateRemoteThreadApiCall' : 'ConnectionSuccess',
    FileName: 'notepad.exe',
    FolderPath: 'C:\\Windows\\System32\\notepad.exe',
    ProcessId: 4000 + (k % 1000),
    ProcessCommandLine: '"notepad.exe" C:\\Users\\someone\\Documents\\notes.txt',
    AccountDomain: 'corp',
    AccountName: `user${k % 100}`,
    AccountSid: 'S-1-5-21-1004336348-1177238915-682003330-1001',
    InitiatingProcessFileName: 'powershell.exe',
    InitiatingProcessFolderPath: 'C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe',
    InitiatingProcessId: 7000 + (k % 1000),
    InitiatingProcessCommandLine: 'powershell.exe -NoProfile -ExecutionPolicy Bypass -File C:\\Temp\\run.ps1',
    InitiatingProcessCreationTime: '2024-05-01T09:59:59.9999999Z',
    InitiatingProcessParentFileName: 'explorer.exe',
    InitiatingProcessParentId: 1234,
    RemoteIP: `10.0.${k % 256}.${(k >> 8) % 256}`,
    RemotePort: 9389,
    LocalIP: '10.1.2.3',
    LocalPort: 50000 + (k % 10000),
    Protocol: 'Tcp',
    ReportId: k,
    AdditionalFields: JSON.stringify({ TargetProcessId: 4000 + (k % 1000), StartAddress: '0x7ff6a1b20000' }),
  };
}

function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

function csvBody(count: number, quoted: boolean): Buffer {
  const header = Array.from({ length: CSV_COLUMNS }, (_, c) => `Column${c}`);
  const lines = [header.join(',')];
  for (let k = 0; k < count; k++) {
    const fields = header.map((_, c) => (c % 3 === 0 ? '' : `value-${c}-${k % 1000}`));
    if (quoted) fields[57] = csvField(String(eventRow(k).AdditionalFields));
    lines.push(fields.join(','));
  }

  return Buffer.from(lines.join('\r\n'));
}

function bodies(count: number): Array<[string, Format, Buffer]> {
  const rows = Array.from({ length: count }, (_, k) => eventRow(k));
  const columns = Object.keys(rows[0]);
  const lines = rows.map((row) => JSON.stringify(row));
  const schema = JSON.stringify(columns.map((Name) => ({ Name, Type: 'String' })));
  const arrayRows = rows.map((row) => JSON.stringify(Object.values(row)));
  const envelope = rows.map((row) => JSON.stringify({ time: row.Timestamp, category: 'X', properties: row }));

  return [
    ['ndjson', 'ndjson', Buffer.from(lines.join('\n'))],
    ['json array', 'json', Buffer.from(`[${lines.join(',\n')}]`)],
    ['json concatenated objects', 'json', Buffer.from(lines.join('\n'))],
    ['AH response, object rows', 'json', Buffer.from(`{"Schema":${schema},"Results":[${lines.join(',')}]}`)],
    ['AH response, array rows', 'json', Buffer.from(`{"Schema":${schema},"Results":[${arrayRows.join(',')}]}`)],
    ['records envelope', 'json', Buffer.from(`{"records":[${envelope.join(',')}]}`)],
    ['csv 72 columns, unquoted', 'csv', csvBody(count, false)],
    ['csv 72 columns, one quoted JSON field', 'csv', csvBody(count, true)],
  ];
}

async function* chunked(body: Buffer): AsyncGenerator<Buffer> {
  for (let k = 0; k < body.length; k += CHUNK) yield body.subarray(k, k + CHUNK);
}

async function measure(body: AsyncIterable<Buffer>, format: Format): Promise<{ records: number; ms: number }> {
  const started = process.hrtime.bigint();
  let records = 0;
  for await (const batch of readRecords(body, format, { batchSize: 5000 })) records += batch.length;

  return { records, ms: Number(process.hrtime.bigint() - started) / 1e6 };
}

/** The floor to compare with: indexOf line split + JSON.parse, records kept in 5000-record batches. */
function bareNdjson(body: Buffer): { records: number; ms: number } {
  const started = process.hrtime.bigint();
  let batch: unknown[] = [];
  let records = 0;
  for (let start = 0; start < body.length;) {
    const nl = body.indexOf(0x0a, start);
    const end = nl < 0 ? body.length : nl;
    batch.push({ position: records++, value: JSON.parse(body.toString('utf8', start, end)) });
    if (batch.length === 5000) batch = [];
    start = end + 1;
  }

  return { records, ms: Number(process.hrtime.bigint() - started) / 1e6 };
}

function report(name: string, bytes: number, result: { records: number; ms: number }): void {
  const perSecond = Math.round(result.records / (result.ms / 1000));
  const mbPerSecond = (bytes / 1e6 / (result.ms / 1000)).toFixed(0);
  console.log(
    `${name.padEnd(40)} ${String(result.records).padStart(8)} records  ${String(perSecond).padStart(8)} records/s` +
      `  ${mbPerSecond.padStart(4)} MB/s  (${(bytes / result.records).toFixed(0)} B/record)`,
  );
}

async function main(): Promise<void> {
  for (const [name, format, body] of bodies(COUNT)) {
    await measure(chunked(body), format);
    report(name, body.length, await measure(chunked(body), format));
  }

  const ndjson = bodies(COUNT)[0][2];
  bareNdjson(ndjson);
  report('baseline: bare split + JSON.parse', ndjson.length, bareNdjson(ndjson));
  const gzipped = gzipSync(ndjson, { level: 6 });
  const opened = openBody(chunked(gzipped), { contentEncoding: 'gzip', maxBytes: 2 ** 31 });
  report('ndjson, gzip through openBody', ndjson.length, await measure(opened, 'ndjson'));

  // One 4 MB quoted CSV row with a million line breaks, in 512-byte chunks: linear time means milliseconds.
  const longRow = Buffer.from(`a,b\n"${'x,\n'.repeat(1_300_000)}",y\n1,2\n`);
  async function* small(): AsyncGenerator<Buffer> {
    for (let k = 0; k < longRow.length; k += 512) yield longRow.subarray(k, k + 512);
  }
  const long = await measure(small(), 'csv');
  console.log(`csv, one 4 MB row in 512-byte chunks: ${long.ms.toFixed(0)} ms`);
}

await main();
