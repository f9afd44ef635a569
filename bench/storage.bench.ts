/**
 * Storage throughput: `EventRepository.insertEvents` in 5k batches against a plain COPY of the same rows
 * (same columns, CSV built the same way) into bare tables without keys or indexes.
 *
 *   npm run build && DATABASE_URL=postgres://postgres@127.0.0.1:5432/test node dist/bench/storage.bench.js
 *
 * Works in a throw-away schema `bench_<random>` that it drops at the end. Without DATABASE_URL it runs on
 * in-memory PGlite. EVENTS and BATCH override the sizes (200000 and 5000).
 */
import { randomBytes } from 'node:crypto';
import { toCsvLine } from '../src/database/csv.js';
import type { Database } from '../src/database/database.js';
import { DEVICE_EVENTS, DEVICE_NETWORK_EVENTS } from '../src/database/event.tables.js';
import { runMigrations } from '../src/database/migrator.js';
import { PgDatabase } from '../src/database/pg.database.js';
import { PgliteDatabase } from '../src/database/pglite.database.js';
import { EventRepository, type InsertStrategy } from '../src/ingest/event.repository.js';
import type { DefenderEvent, DeviceEvent, DeviceNetworkEvent } from '../src/ingest/event.types.js';
import { INJECTION_ACTION_TYPES } from '../src/vocabulary/graph.vocabulary.js';
import { canonicalTime, deviceEvent, networkEvent } from '../test/support/event.factory.js';

const TOTAL = Number(process.env.EVENTS ?? 200_000);
const BATCH = Number(process.env.BATCH ?? 5_000);
const DEVICES = 500;
const RECEIVED_AT = '2024-03-02T00:00:00.000Z';
const PLAIN = { device: 'plain_device_events', network: 'plain_device_network_events' };

const TEMPLATES = 1_000;

/** Event number `i`, the same every time: half device events, half network events, ~30-column raw rows. */
function templateAt(i: number): DefenderEvent {
  const deviceId = `device-${i % DEVICES}`;
  if (i % 2 === 0) {
    const actionType = i % 20 === 0 ? INJECTION_ACTION_TYPES[(i / 20) % 8] : 'ProcessCreated';

    return deviceEvent({ deviceId, actionType, processId: 1000 + (i % 4000) });
  }

  const actionType = i % 5 === 1 ? 'ConnectionSuccess' : 'InboundConnectionAccepted';

  return networkEvent({ deviceId, actionType, remotePort: i % 15 === 1 ? 9389 : 443, initiatingProcessId: i % 4000 });
}

/**
 * All batches up front, so no run pays for building events; events share the raw objects of 1,000
 * templates (every row's raw is still serialised on its own by the CSV writer).
 */
function allBatches(): DefenderEvent[][] {
  const templates = Array.from({ length: TEMPLATES }, (_, i) => templateAt(i));
  const batches: DefenderEvent[][] = [];
  for (let start = 0; start < TOTAL; start += BATCH) {
    batches.push(Array.from({ length: Math.min(BATCH, TOTAL - start) }, (_, k) => withIdentity(templates, start + k)));
  }

  return batches;
}

function withIdentity(templates: DefenderEvent[], i: number): DefenderEvent {
  const timestamp = canonicalTime(i);
  const template = templates[i % TEMPLATES];
  const deviceId = `device-${i % DEVICES}`;

  return { ...template, deviceId, timestamp, reportId: String(i), eventKey: `r:${timestamp}:${i}` };
}

/** The plain COPY: CSV built exactly as insertEvents builds it, no dedupe, no keys, no transaction. */
async function plainCopy(db: Database, events: DefenderEvent[]): Promise<void> {
  const device = events.filter((e): e is DeviceEvent => e.table === DEVICE_EVENTS.table);
  const network = events.filter((e): e is DeviceNetworkEvent => e.table === DEVICE_NETWORK_EVENTS.table);
  const deviceCsv = device.map((e) => toCsvLine(DEVICE_EVENTS.toValues(e, RECEIVED_AT))).join('');
  const networkCsv = network.map((e) => toCsvLine(DEVICE_NETWORK_EVENTS.toValues(e, RECEIVED_AT))).join('');
  await db.copyCsv(PLAIN.device, DEVICE_EVENTS.columns, deviceCsv);
  await db.copyCsv(PLAIN.network, DEVICE_NETWORK_EVENTS.columns, networkCsv);
}

type Writer = (events: DefenderEvent[]) => Promise<unknown>;

/** Runs every batch through `write` on `lanes` concurrent lanes; returns rows/s over the wall time. */
async function measure(batches: DefenderEvent[][], write: Writer, lanes: number): Promise<number> {
  const lane = async (offset: number) => {
    for (let b = offset; b < batches.length; b += lanes) await write(batches[b]);
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: lanes }, (_, offset) => lane(offset)));

  return TOTAL / ((performance.now() - started) / 1000);
}

async function reset(db: Database): Promise<void> {
  await db.query(`TRUNCATE device_events, device_network_events, ${PLAIN.device}, ${PLAIN.network}`);
}

async function openBenchDatabase(): Promise<{ db: Database; drop(): Promise<void> }> {
  const url = process.env.DATABASE_URL;
  if (!url) {
    const db = await PgliteDatabase.open({ dataDir: 'memory://' });

    return { db, drop: () => db.close() };
  }

  const schema = `bench_${randomBytes(5).toString('hex')}`;
  const db = new PgDatabase({ databaseUrl: url, schema });

  return { db, drop: async () => (await db.query(`DROP SCHEMA ${schema} CASCADE`), db.close()) };
}

async function main(): Promise<void> {
  const { db, drop } = await openBenchDatabase();
  try {
    await runMigrations(db);
    await db.query(`CREATE TABLE ${PLAIN.device} (LIKE device_events)`);
    await db.query(`CREATE TABLE ${PLAIN.network} (LIKE device_network_events)`);
    await report(db);
  } finally {
    await drop();
  }
}

interface Run {
  name: string;
  write: Writer;
  lanes: number;
  /** Start from empty tables; otherwise the rows of the previous run stay (a re-post). */
  fresh: boolean;
}

function runsFor(db: Database): Run[] {
  const insert = (strategy?: InsertStrategy): Writer => {
    const repo = new EventRepository(db, strategy);

    return (events) => repo.insertEvents(events, RECEIVED_AT);
  };
  const plain: Writer = (events) => plainCopy(db, events);

  return [
    { name: 'plain COPY, 1 connection', write: plain, lanes: 1, fresh: true },
    { name: 'insertEvents copy-first, 1 connection', write: insert('copy-first'), lanes: 1, fresh: true },
    { name: 'insertEvents staging-only, 1 connection', write: insert('staging-only'), lanes: 1, fresh: true },
    { name: 'plain COPY, 2 connections', write: plain, lanes: 2, fresh: true },
    { name: 'insertEvents default, 2 connections', write: insert(), lanes: 2, fresh: true },
    { name: 're-post, copy-first, 1 connection', write: insert('copy-first'), lanes: 1, fresh: false },
    { name: 're-post, staging-only, 1 connection', write: insert('staging-only'), lanes: 1, fresh: false },
  ];
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);

  return sorted[Math.floor(sorted.length / 2)];
}

async function report(db: Database): Promise<void> {
  const rounds = Number(process.env.ROUNDS ?? 1);
  const batches = allBatches();
  const runs = runsFor(db);
  const rates = new Map<string, number[]>(runs.map((run) => [run.name, []]));
  console.log(`${db.kind}: ${TOTAL} events in batches of ${BATCH}, ${rounds} round(s), median rows/s`);
  for (let round = 0; round < rounds; round++) {
    for (const run of runs) {
      if (run.fresh) await reset(db);
      rates.get(run.name)!.push(await measure(batches, run.write, run.lanes));
    }
  }
  const rate = (name: string) => median(rates.get(name)!);
  for (const run of runs) {
    console.log(`${run.name.padEnd(42)} ${Math.round(rate(run.name)).toLocaleString('en').padStart(9)}`);
  }
  const ratio = (a: string, b: string) => `${((rate(a) / rate(b)) * 100).toFixed(0)}%`;
  console.log(`copy-first / plain, 1 connection:   ${ratio(runs[1].name, runs[0].name)}`);
  console.log(`staging-only / plain, 1 connection: ${ratio(runs[2].name, runs[0].name)}`);
  console.log(`default / plain, 2 connections:     ${ratio(runs[4].name, runs[3].name)}`);
}

await main();
