/**
 * Ingest benchmark: the whole service against a plain COPY of the same rows.
 *
 *   npm run bench:ingest                       # embedded PGlite in a temporary folder
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npm run bench:ingest
 *
 * 1. Starts the built service (dist/src/main.js) as a child process on a free port, on a throw-away schema
 *    (server) or data folder (PGlite).
 * 2. Generates BENCH_EVENTS Defender rows (default 1,000,000; deterministic; never held in memory) and posts
 *    them as NDJSON to POST /api/v1/events in requests of BENCH_REQUEST_EVENTS (default 100,000), sampling the
 *    service's RSS as it goes.
 * 3. Times a full detection re-run over every device with an ADWS connection.
 * 4. Regenerates the same rows, maps them to the same typed columns plus the raw record, and COPYs them
 *    (CSV, 5,000-row batches, one connection) into bare tables with the same columns and no key or index.
 * Prints events/s of both, their ratio, the detection time and the service's peak RSS.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { toCsvLine } from '../src/database/csv.js';
import type { Database } from '../src/database/database.js';
import { DEVICE_EVENTS, DEVICE_NETWORK_EVENTS } from '../src/database/event.tables.js';
import { runMigrations } from '../src/database/migrator.js';
import { PgDatabase } from '../src/database/pg.database.js';
import { PgliteDatabase } from '../src/database/pglite.database.js';
import { mapEventsRecord } from '../src/ingest/mappers/mde.mapper.js';
import { INJECTION_ACTION_TYPES } from '../src/vocabulary/graph.vocabulary.js';

const TOTAL = Number(process.env.BENCH_EVENTS ?? 1_000_000);
const PER_REQUEST = Number(process.env.BENCH_REQUEST_EVENTS ?? 100_000);
const DEVICES = Number(process.env.BENCH_DEVICES ?? 2_000);
/** The admin key the benchmark starts its service with (BOOTSTRAP_ADMIN_KEY) and sends on every request. */
const BENCH_KEY = 'bench-admin-key-0123456789abcdef';
const COPY_BATCH = 5_000;
const RULE = '/api/v1/rules/adws-connection-from-process-injection-target';
const BASE_MS = Date.parse('2024-06-01T00:00:00Z');

type Row = Record<string, unknown>;

// ------------------------------------------------------------------------------------------------
// Deterministic Defender rows: 45% DeviceEvents (1 in 10 an injection), 55% DeviceNetworkEvents
// (1 in 50 a ConnectionSuccess to 9389). Injection targets and connecting processes share pids, so some
// devices raise alerts and the detector has real work.
// ------------------------------------------------------------------------------------------------

const OTHER_DEVICE_ACTIONS = ['OpenProcessApiCall', 'PowerShellCommand', 'DpapiAccessed', 'ReadProcessMemoryApiCall'];
const NETWORK_ACTIONS = ['ConnectionSuccess', 'ConnectionSuccess', 'ConnectionFailed', 'InboundConnectionAccepted'];
const TARGETS = ['notepad.exe', 'RuntimeBroker.exe', 'svchost.exe', 'explorer.exe'];
const INJECTORS = ['rundll32.exe', 'powershell.exe', 'csrss.exe', 'vmtoolsd.exe'];

/** Rows come in runs of 37 per device, as a device's upload would; three busy pids per run. */
function rowAt(i: number): Row {
  const device = Math.floor(i / 37) % DEVICES;
  const pid = 1000 + (i % 3) * 4 + (device % 5) * 100;
  const timestamp = new Date(BASE_MS + i * 37).toISOString().replace('Z', `${String(i % 10_000).padStart(4, '0')}Z`);
  const common = {
    Timestamp: timestamp,
    DeviceId: `bench${String(device).padStart(6, '0')}f0e1d2c3b4a59687`,
    DeviceName: `ws${device}.corp.example`,
    ReportId: 10_000_000 + i,
    InitiatingProcessAccountDomain: 'corp',
    InitiatingProcessAccountName: `user${device % 97}`,
    InitiatingProcessAccountSid: `S-1-5-21-1004336348-1177238915-682003330-${1000 + (device % 97)}`,
    InitiatingProcessSHA1: 'a3c5b1e2d4f60718293a4b5c6d7e8f9012345678',
    InitiatingProcessSHA256: 'de96a6e69944335375dc1ac238336066889d9ffc7d73628ef4fe1b1b160ab32c',
    InitiatingProcessMD5: '7353f60b1739074eb17c5f4dddefe239',
    InitiatingProcessCreationTime: new Date(BASE_MS - 60_000).toISOString(),
    InitiatingProcessParentId: 4,
    InitiatingProcessParentFileName: 'services.exe',
    MachineGroup: 'UnassignedGroup',
  };

  return i % 20 < 9 ? deviceEventRow(i, pid, common) : networkRow(i, pid, common);
}

function targetOf(pid: number): string {
  return TARGETS[(pid >> 2) % TARGETS.length]!;
}

function deviceEventRow(i: number, pid: number, common: Row): Row {
  const injection = i % 10 === 0;
  const injector = INJECTORS[(i >> 4) % INJECTORS.length]!;

  return {
    ...common,
    ActionType: injection ? INJECTION_ACTION_TYPES[(i >> 2) % 8] : OTHER_DEVICE_ACTIONS[i % 4],
    FileName: targetOf(pid),
    FolderPath: `C:\\Windows\\System32\\${targetOf(pid)}`,
    ProcessId: pid,
    InitiatingProcessId: 5000 + (i % 16),
    InitiatingProcessFileName: injector,
    InitiatingProcessFolderPath: `c:\\windows\\system32\\${injector}`,
    InitiatingProcessCommandLine: `"${injector}" C:\\Users\\Public\\payload.dll,Start`,
    AdditionalFields: '{"Size":"4096","Protection":"PAGE_EXECUTE_READWRITE"}',
  };
}

function networkRow(i: number, pid: number, common: Row): Row {
  const adws = i % 50 === 13;
  const target = targetOf(pid);

  return {
    ...common,
    ActionType: adws ? 'ConnectionSuccess' : NETWORK_ACTIONS[i % 4],
    RemoteIP: `10.20.${(i >> 8) % 255}.${i % 255}`,
    RemotePort: adws ? 9389 : [443, 80, 445, 389][i % 4],
    RemoteUrl: adws ? '' : 'login.example.net',
    LocalIP: '10.20.14.42',
    LocalPort: 49152 + (i % 16000),
    Protocol: 'Tcp',
    InitiatingProcessId: pid,
    InitiatingProcessFileName: target.toLowerCase(),
    InitiatingProcessFolderPath: `c:\\windows\\system32\\${target.toLowerCase()}`,
    InitiatingProcessCommandLine: target,
    AdditionalFields: null,
  };
}

// ------------------------------------------------------------------------------------------------
// The service under test
// ------------------------------------------------------------------------------------------------

interface Target {
  databaseUrl: string | null;
  schema: string;
  dataDir: string;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

async function startService(target: Target, port: number): Promise<ChildProcess> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String(port),
    LOG_LEVEL: 'warn',
    DATA_DIR: join(target.dataDir, 'service'),
    BOOTSTRAP_ADMIN_KEY: BENCH_KEY,
  };
  if (target.databaseUrl) Object.assign(env, { DATABASE_URL: target.databaseUrl, DATABASE_SCHEMA: target.schema });
  else delete env.DATABASE_URL;
  const child = spawn(process.execPath, ['dist/src/main.js'], { env, stdio: ['ignore', 'inherit', 'inherit'] });

  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) throw new Error(`service exited with ${child.exitCode}`);
    const ok = await call(port, 'GET', '/api/v1/health').then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) return child;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('service did not become healthy in 60 s');
}

function call(port: number, method: string, path: string, body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        headers: { 'content-type': 'application/json', 'x-api-key': BENCH_KEY },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Streams rows [from, to) as one NDJSON request, honouring back-pressure. */
function postNdjson(port: number, from: number, to: number): Promise<Record<string, number>> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/api/v1/events',
        headers: { 'content-type': 'application/x-ndjson', 'x-api-key': BENCH_KEY },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () =>
          res.statusCode === 200 ? resolve(JSON.parse(text)) : reject(new Error(`${res.statusCode}: ${text}`)),
        );
      },
    );
    req.on('error', reject);
    let i = from;
    const write = () => {
      while (i < to) {
        const block: string[] = [];
        for (const end = Math.min(i + 500, to); i < end; i++) block.push(JSON.stringify(rowAt(i)));
        if (!req.write(`${block.join('\n')}\n`)) return void req.once('drain', write);
      }
      req.end();
    };
    write();
  });
}

async function countAlerts(port: number): Promise<number> {
  let count = 0;
  let cursor: string | null = null;
  do {
    const query: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
    const page = JSON.parse((await call(port, 'GET', `/api/v1/alerts?limit=1000${query}`)).body);
    count += page.items.length;
    cursor = page.nextCursor;
  } while (cursor);

  return count;
}

async function rssOf(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);

  return kb * 1024;
}

async function peakRssOf(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');

  return Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
}

async function ingestAll(
  port: number,
  pid: number,
): Promise<{ seconds: number; totals: Record<string, number>; rss: number[] }> {
  const totals: Record<string, number> = { received: 0, inserted: 0, duplicates: 0, skipped: 0, rejected: 0 };
  const rss: number[] = [];
  const started = performance.now();
  for (let from = 0; from < TOTAL; from += PER_REQUEST) {
    const reply = await postNdjson(port, from, Math.min(from + PER_REQUEST, TOTAL));
    for (const key of Object.keys(totals)) totals[key] += reply[key] ?? 0;
    rss.push(await rssOf(pid));
  }

  return { seconds: (performance.now() - started) / 1000, totals, rss };
}

// ------------------------------------------------------------------------------------------------
// The baseline: plain COPY of the same rows into bare tables
// ------------------------------------------------------------------------------------------------

/** The server's schema the service migrated, or (PGlite, one process per folder) a migrated database of its own. */
async function openBaseline(target: Target): Promise<Database> {
  if (target.databaseUrl)
    return new PgDatabase({ databaseUrl: target.databaseUrl, schema: target.schema, maxConnections: 1 });

  const db = await PgliteDatabase.open({ dataDir: join(target.dataDir, 'baseline') });
  await runMigrations(db);
  return db;
}

async function plainCopy(db: Database): Promise<number> {
  await db.query(`CREATE TABLE plain_device_events (LIKE device_events)`);
  await db.query(`CREATE TABLE plain_device_network_events (LIKE device_network_events)`);
  const receivedAt = new Date().toISOString();
  const started = performance.now();
  for (let from = 0; from < TOTAL; from += COPY_BATCH) {
    const lines = { device: [] as string[], network: [] as string[] };
    for (let i = from; i < Math.min(from + COPY_BATCH, TOTAL); i++) {
      const mapped = mapEventsRecord({ position: i, value: rowAt(i) });
      if (mapped.kind !== 'event') continue;
      const event = mapped.event;
      if (event.table === 'DeviceEvents') lines.device.push(toCsvLine(DEVICE_EVENTS.toValues(event, receivedAt)));
      else lines.network.push(toCsvLine(DEVICE_NETWORK_EVENTS.toValues(event, receivedAt)));
    }
    await db.copyCsv('plain_device_events', DEVICE_EVENTS.columns, lines.device.join(''));
    await db.copyCsv('plain_device_network_events', DEVICE_NETWORK_EVENTS.columns, lines.network.join(''));
  }

  return (performance.now() - started) / 1000;
}

// ------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'adws-bench-'));
  const target: Target = {
    databaseUrl: process.env.DATABASE_URL || null,
    schema: `bench_${randomBytes(4).toString('hex')}`,
    dataDir,
  };
  const port = await freePort();
  const database = target.databaseUrl ? `PostgreSQL (schema ${target.schema})` : `embedded PGlite (${dataDir})`;
  console.log(
    `events: ${TOTAL} in requests of ${PER_REQUEST} NDJSON rows over ${DEVICES} devices; database: ${database}`,
  );

  const service = await startService(target, port);
  const baseline = await openBaseline(target);
  try {
    const ingest = await ingestAll(port, service.pid!);
    const rerunStarted = performance.now();
    const rerun = JSON.parse((await call(port, 'POST', `${RULE}/rerun`)).body);
    const detectionMs = performance.now() - rerunStarted;
    const peak = await peakRssOf(service.pid!);
    const alerts = await countAlerts(port);
    const copySeconds = await plainCopy(baseline);

    const ingestRate = TOTAL / ingest.seconds;
    const copyRate = TOTAL / copySeconds;
    const mb = (bytes: number) => `${Math.round(bytes / 1024 / 1024)} MB`;
    console.log(`ingest replies: ${JSON.stringify(ingest.totals)}`);
    console.log(`ingest through the service: ${Math.round(ingestRate)} events/s (${ingest.seconds.toFixed(1)} s)`);
    console.log(`plain COPY into bare tables: ${Math.round(copyRate)} rows/s (${copySeconds.toFixed(1)} s)`);
    console.log(`ratio: ${(ingestRate / copyRate).toFixed(2)}`);
    const changes = `${rerun.created} created, ${rerun.updated} updated`;
    console.log(
      `detection re-run: ${Math.round(detectionMs)} ms over ${rerun.devices} devices (${changes}); alerts: ${alerts}`,
    );
    console.log(`service RSS after each request: ${ingest.rss.map(mb).join(', ')}`);
    console.log(`service peak RSS: ${mb(peak)}`);
  } finally {
    const exited = new Promise((resolve) => service.once('exit', resolve));
    service.kill('SIGTERM');
    await exited;
    if (target.databaseUrl)
      await baseline.query(`DROP SCHEMA IF EXISTS ${target.schema} CASCADE`).catch(() => undefined);
    await baseline.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
