import type { Database } from '../database/database.js';
import { SYSMON_EVENTS, type Row } from '../database/event.tables.js';
import * as Q from '../database/sysmon.queries.js';
import type { SysmonEvent } from './event.types.js';
import type { EventWindow } from './event.repository.js';

/** (device id, pid) pairs, the shape of the join lists below. */
export type ProcessPairs = readonly (readonly [string, number])[];

/** Reads of stored Sysmon events for correlation and for drawn graphs (writes go through EventRepository). */
export class SysmonEventRepository {
  constructor(private readonly db: Database) {}

  /** Outbound connections (event 3, `Initiated`) of the hosts to the given ports. */
  async connections(hostIds: string[], ports: number[]): Promise<SysmonEvent[]> {
    if (hostIds.length === 0 || ports.length === 0) return [];

    return this.select(Q.SELECT_SYSMON_CONNECTIONS, [hostIds, ports]);
  }

  /** Remote threads (event 8) created in the given processes. */
  async threadsInto(pairs: ProcessPairs): Promise<SysmonEvent[]> {
    return this.selectPairs(Q.SELECT_SYSMON_THREADS_INTO, pairs);
  }

  /** Remote threads (event 8) created in the given processes, named by GUID (a thread logged without a pid). */
  async threadsIntoGuids(pairs: readonly (readonly [string, string])[]): Promise<SysmonEvent[]> {
    if (pairs.length === 0) return [];

    return this.select(Q.SELECT_SYSMON_THREADS_INTO_GUIDS, [pairs.map((p) => p[0]), pairs.map((p) => p[1])]);
  }

  /** Process creations (event 1) with the given pids. */
  async createsOf(pairs: ProcessPairs): Promise<SysmonEvent[]> {
    return this.selectPairs(Q.SELECT_SYSMON_CREATES_OF, pairs);
  }

  async hostsWithAdwsConnections(ports: number[]): Promise<string[]> {
    if (ports.length === 0) return [];

    const result = await this.db.query<{ device_id: string }>(Q.SELECT_SYSMON_HOSTS_WITH_ADWS, [ports]);
    return result.rows.map((row) => row.device_id);
  }

  /** Remote threads, process accesses and ADWS connections of the hosts, newest first, at most `limit`. */
  async graphEvents(
    hostIds: string[],
    ports: number[],
    limit: number,
    window: EventWindow = {},
  ): Promise<SysmonEvent[]> {
    if (hostIds.length === 0) return [];

    return this.select(Q.SELECT_SYSMON_GRAPH_EVENTS, [hostIds, ports, limit, window.from ?? null, window.to ?? null]);
  }

  private async selectPairs(sql: string, pairs: ProcessPairs): Promise<SysmonEvent[]> {
    if (pairs.length === 0) return [];

    return this.select(sql, [pairs.map((p) => p[0]), pairs.map((p) => p[1])]);
  }

  private async select(sql: string, params: unknown[]): Promise<SysmonEvent[]> {
    const result = await this.db.query<Row>(sql, params);

    return result.rows.map(SYSMON_EVENTS.fromRow);
  }
}
