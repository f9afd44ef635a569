/**
 * All SQL about stored events. Writes are idempotent on (device_id, event_key): a stored or repeated event
 * counts as a duplicate and changes nothing.
 *
 * Write path, per batch: dedupe in JS, sort by (device_id, event_key), then in one transaction and per
 * table: COPY straight into the table inside a savepoint; if a key is already stored (SQLSTATE 23505),
 * roll back to the savepoint and COPY into a temporary staging table, then
 * `INSERT ... SELECT ... ON CONFLICT DO NOTHING RETURNING`. Every writer takes row locks in the same
 * (table, key) order, so concurrent calls with overlapping batches wait for each other instead of
 * deadlocking; a call that waited on a key another call committed falls back and counts it as a duplicate.
 * After a batch with stored keys the next batch of that table goes straight to staging, until one stages
 * without any duplicate (a failed COPY costs a full send; measured in bench/storage.bench.ts).
 */
import { InvalidInputError } from '../common/domain.errors.js';
import { evidenceId } from '../detection/event.filters.js';
import { PendingDetectionRepository } from '../detection/pending-detection.repository.js';
import { compareStrings } from '../detection/sort.order.js';
import type { Database, Queryable } from '../database/database.js';
import { toCsvLine } from '../database/csv.js';
import {
  DEVICE_EVENTS,
  DEVICE_NETWORK_EVENTS,
  EVENT_TABLE_SPECS,
  specOf,
  type EventTableSpec,
  type Row,
} from '../database/event.tables.js';
import * as Q from '../database/event.queries.js';
import { EventTable, hostNameKey, type EvidenceRef } from '../vocabulary/graph.vocabulary.js';
import type { CanonicalEvent, DeviceEvent, DeviceNetworkEvent } from './event.types.js';

/** A time window in canonical timestamp text (see canonicalTimestamp); an absent bound is open. */
export interface EventWindow {
  from?: string;
  to?: string;
}

export interface InsertOutcome {
  inserted: number;
  duplicates: number;
  touchedDevices: string[];
}

export interface RawEvent extends EvidenceRef {
  timestamp: string;
  raw: unknown;
}

/**
 * `copy-first` tries COPY straight into the table; `staging-only` always goes through the staging table.
 * Measured with bench/storage.bench.ts (200k rows of ~1.7 kB): on PostgreSQL copy-first reaches about 90%
 * of a plain COPY and staging-only about 75%; on PGlite a COPY into a logged table is 2x to 5x slower than
 * staging plus INSERT ... SELECT (2.4k against 11k rows/s at 200k rows), so each gets its faster default.
 */
export type InsertStrategy = 'copy-first' | 'staging-only';

function defaultStrategy(db: Database): InsertStrategy {
  return db.kind === 'pglite' ? 'staging-only' : 'copy-first';
}

interface TableOutcome {
  inserted: number;
  touched: string[];
}

const UNIQUE_VIOLATION = '23505';

export class EventRepository {
  /** Tables whose last batch held stored keys: their next batch goes straight to staging (re-posts come in runs). */
  private readonly expectingDuplicates = new Set<EventTable>();

  private readonly strategy: InsertStrategy;

  constructor(
    private readonly db: Database,
    strategy?: InsertStrategy,
  ) {
    this.strategy = strategy ?? defaultStrategy(db);
  }

  async insertEvents(events: CanonicalEvent[], receivedAt: string): Promise<InsertOutcome> {
    const batches = dedupeAndSort(events);
    const unique = batches.reduce((sum, batch) => sum + batch.events.length, 0);
    if (unique === 0) return { inserted: 0, duplicates: events.length, touchedDevices: [] };

    const { inserted, touchedDevices } = await this.db.transaction(async (tx) => {
      const done: TableOutcome[] = [];
      for (const batch of batches) done.push(await this.insertTable(tx, batch.spec, batch.events, receivedAt));
      const named = await recordDeviceNames(tx, events);
      const touched = distinctSorted([...done, { inserted: 0, touched: named }]);
      await PendingDetectionRepository.mark(tx, touched, new Date().toISOString());

      return { inserted: done.reduce((sum, o) => sum + o.inserted, 0), touchedDevices: touched };
    });

    return { inserted, duplicates: events.length - inserted, touchedDevices };
  }

  async loadCorrelationEvents(
    deviceIds: string[],
    adwsPorts: number[],
  ): Promise<{ injections: DeviceEvent[]; connections: DeviceNetworkEvent[] }> {
    if (deviceIds.length === 0 || adwsPorts.length === 0) return { injections: [], connections: [] };

    const params = [deviceIds, adwsPorts];
    const connections = await this.db.query<Row>(Q.SELECT_CORRELATION_CONNECTIONS, params);
    const injections = await this.db.query<Row>(Q.SELECT_CORRELATION_INJECTIONS, params);

    return {
      injections: injections.rows.map(DEVICE_EVENTS.fromRow),
      connections: connections.rows.map(DEVICE_NETWORK_EVENTS.fromRow),
    };
  }

  /** Injections (the eight action types) into the given (device, pid) processes, whatever their connections. */
  async injectionsInto(pairs: readonly (readonly [string, number])[]): Promise<DeviceEvent[]> {
    if (pairs.length === 0) return [];

    const params = [pairs.map((p) => p[0]), pairs.map((p) => p[1])];
    const result = await this.db.query<Row>(Q.SELECT_INJECTIONS_INTO, params);
    return result.rows.map(DEVICE_EVENTS.fromRow);
  }

  async loadDeviceGraphEvents(
    deviceId: string,
    adwsPorts: number[],
    limit: number,
    window: EventWindow = {},
  ): Promise<{ injections: DeviceEvent[]; connections: DeviceNetworkEvent[]; truncated: boolean }> {
    const bounds = [window.from ?? null, window.to ?? null];
    const injections = await this.db.query<Row>(Q.SELECT_DEVICE_INJECTIONS, [deviceId, limit + 1, ...bounds]);
    const connections = await this.db.query<Row>(Q.SELECT_DEVICE_CONNECTIONS, [
      deviceId,
      adwsPorts,
      limit + 1,
      ...bounds,
    ]);
    const truncated = injections.rows.length > limit || connections.rows.length > limit;

    return {
      injections: injections.rows.slice(0, limit).map(DEVICE_EVENTS.fromRow),
      connections: connections.rows.slice(0, limit).map(DEVICE_NETWORK_EVENTS.fromRow),
      truncated,
    };
  }

  async devicesWithAdwsConnections(adwsPorts: number[]): Promise<string[]> {
    if (adwsPorts.length === 0) return [];

    const result = await this.db.query<{ device_id: string }>(Q.SELECT_DEVICES_WITH_ADWS, [adwsPorts]);

    return result.rows.map((row) => row.device_id);
  }

  /** The stored raw records of the given events, in the order asked; unknown references are left out. */
  async getRawEvents(refs: EvidenceRef[]): Promise<RawEvent[]> {
    const found = new Map<string, RawEvent>();
    for (const table of Object.values(EventTable)) {
      const wanted = refs.filter((ref) => ref.table === table);
      if (wanted.length > 0) for (const raw of await this.loadRaw(table, wanted)) found.set(evidenceId(raw), raw);
    }

    return refs.flatMap((ref) => found.get(evidenceId(ref)) ?? []);
  }

  private async loadRaw(table: EventTable, refs: EvidenceRef[]): Promise<RawEvent[]> {
    const params = [refs.map((r) => r.deviceId), refs.map((r) => r.eventKey)];
    const result = await this.db.query<Row>(Q.selectRawEvents(specOf(table).sqlTable), params);

    return result.rows.map((row) => ({
      table,
      deviceId: String(row.device_id),
      eventKey: String(row.event_key),
      timestamp: String(row.timestamp_text),
      raw: JSON.parse(String(row.raw)) as unknown,
    }));
  }

  private async insertTable(
    tx: Queryable,
    spec: EventTableSpec<CanonicalEvent>,
    events: CanonicalEvent[],
    receivedAt: string,
  ): Promise<TableOutcome> {
    if (events.length === 0) return { inserted: 0, touched: [] };

    const lines = events.map((event) => toCsvLine(spec.toValues(event, receivedAt)));
    if (this.tryDirectCopyFirst(spec.table) && (await copyUnlessStored(tx, spec, lines))) {
      return { inserted: events.length, touched: relevantDevices(spec, events) };
    }

    const outcome = await insertThroughStaging(tx, spec, lines);
    this.rememberDuplicates(spec.table, outcome.inserted < lines.length);

    return outcome;
  }

  private tryDirectCopyFirst(table: EventTable): boolean {
    return this.strategy === 'copy-first' && !this.expectingDuplicates.has(table);
  }

  private rememberDuplicates(table: EventTable, found: boolean): void {
    if (found) this.expectingDuplicates.add(table);
    else this.expectingDuplicates.delete(table);
  }
}

/** COPY into the table inside a savepoint; false (and nothing written) when some key is already stored. */
async function copyUnlessStored(tx: Queryable, spec: EventTableSpec<CanonicalEvent>, lines: string[]) {
  await tx.query('SAVEPOINT direct_copy');
  try {
    await tx.copyCsv(spec.sqlTable, spec.columns, lines.join(''));
    await tx.query('RELEASE SAVEPOINT direct_copy');

    return true;
  } catch (error) {
    if ((error as { code?: unknown }).code !== UNIQUE_VIOLATION) throw error;
    await tx.query('ROLLBACK TO SAVEPOINT direct_copy');

    return false;
  }
}

async function insertThroughStaging(
  tx: Queryable,
  spec: EventTableSpec<CanonicalEvent>,
  lines: string[],
): Promise<TableOutcome> {
  await tx.query(Q.createStagingTable(spec));
  const staged = lines.map((line, ord) => `${ord},${line}`).join('');
  await tx.copyCsv(Q.stagingTableOf(spec), ['ord', ...spec.columns], staged);
  const result = await tx.query<{ device_id: string; action_type: string }>(Q.insertFromStaging(spec));
  const touched = result.rows.filter((r) => spec.mattersToDetection(r.action_type)).map((r) => r.device_id);

  return { inserted: result.rows.length, touched };
}

function dedupeAndSort(events: CanonicalEvent[]) {
  const byTable = new Map<EventTable, Map<string, CanonicalEvent>>(EVENT_TABLE_SPECS.map((s) => [s.table, new Map()]));
  for (const event of events) {
    const seen = byTable.get(event.table);
    if (!seen) throw new InvalidInputError('event of an unknown table', { table: event.table });

    const key = `${event.deviceId}\u0000${event.eventKey}`;
    if (!seen.has(key)) seen.set(key, event);
  }

  return EVENT_TABLE_SPECS.map((spec) => ({ spec, events: [...byTable.get(spec.table)!.values()].sort(byStorageKey) }));
}

/** The one row-lock order every writer follows (see the module comment). */
function byStorageKey(a: CanonicalEvent, b: CanonicalEvent): number {
  if (a.deviceId !== b.deviceId) return a.deviceId < b.deviceId ? -1 : 1;
  if (a.eventKey === b.eventKey) return 0;

  return a.eventKey < b.eventKey ? -1 : 1;
}

function relevantDevices(spec: EventTableSpec<CanonicalEvent>, events: CanonicalEvent[]): string[] {
  return events.filter((e) => spec.mattersToDetection(e.actionType)).map((e) => e.deviceId);
}

function distinctSorted(outcomes: TableOutcome[]): string[] {
  return [...new Set(outcomes.flatMap((o) => o.touched))].sort();
}

/**
 * Remembers the lower-cased DeviceName of every Defender device in the batch. A device that gained the name of a
 * Sysmon host with stored events is returned as touched: that host's events now belong to its graph.
 */
async function recordDeviceNames(tx: Queryable, events: CanonicalEvent[]): Promise<string[]> {
  const pairs = new Map<string, [string, string]>();
  for (const event of events) {
    if (event.table === EventTable.SysmonEvents || !event.deviceName) continue;
    const name = hostNameKey(event.deviceName);
    pairs.set(`${event.deviceId}\u0000${name}`, [event.deviceId, name]);
  }
  if (pairs.size === 0) return [];

  const sorted = [...pairs.values()].sort((a, b) => compareStrings(a[0], b[0]) || compareStrings(a[1], b[1]));
  const params = [sorted.map((p) => p[0]), sorted.map((p) => p[1])];
  const result = await tx.query<{ device_id: string }>(Q.INSERT_DEVICE_NAMES, params);

  return result.rows.map((row) => row.device_id);
}
