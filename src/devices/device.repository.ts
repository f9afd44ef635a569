import type { Database } from '../database/database.js';
import { EVENT_TABLE_SPECS } from '../database/event.tables.js';
import type { EventTable } from '../vocabulary/graph.vocabulary.js';

/** $1 after (device id, exclusive) or null, $2 limit: the next page of device ids with stored events. */
const PAGE = `
SELECT device_id FROM (
  ${EVENT_TABLE_SPECS.map((s) => `SELECT DISTINCT device_id FROM ${s.sqlTable}`).join('\n  UNION\n  ')}
) AS devices
WHERE $1::text IS NULL OR device_id > $1
ORDER BY device_id
LIMIT $2`;

const EVENT_STATS = (sqlTable: string) => `
SELECT device_id, count(*) AS events, min(timestamp_text) AS first_seen, max(timestamp_text) AS last_seen
FROM ${sqlTable} WHERE device_id = ANY($1::text[]) GROUP BY device_id`;

const NAMES = `SELECT device_id, name_lower FROM device_names WHERE device_id = ANY($1::text[]) ORDER BY name_lower`;

const ALERT_COUNTS = `
SELECT device_id, status, count(*) AS alerts FROM alerts WHERE device_id = ANY($1::text[]) GROUP BY device_id, status`;

export interface EventStats {
  events: number;
  firstSeen: string;
  lastSeen: string;
}

export interface DeviceFacts {
  events: Map<string, Map<EventTable, EventStats>>;
  names: Map<string, string[]>;
  alerts: Map<string, Map<string, number>>;
}

type Row = Record<string, unknown>;

/** The SQL of the device list: pages of device ids, and per page their event, name and alert facts. */
export class DeviceRepository {
  constructor(private readonly db: Database) {}

  async page(after: string | null, limit: number): Promise<string[]> {
    const { rows } = await this.db.query<{ device_id: string }>(PAGE, [after, limit]);

    return rows.map((r) => r.device_id);
  }

  async factsOf(deviceIds: string[]): Promise<DeviceFacts> {
    const facts: DeviceFacts = { events: new Map(), names: new Map(), alerts: new Map() };
    for (const spec of EVENT_TABLE_SPECS) {
      for (const r of await this.rows(EVENT_STATS(spec.sqlTable), deviceIds)) {
        const stats = { events: Number(r.events), firstSeen: String(r.first_seen), lastSeen: String(r.last_seen) };
        slot(facts.events, String(r.device_id), () => new Map()).set(spec.table, stats);
      }
    }
    for (const r of await this.rows(NAMES, deviceIds)) {
      slot(facts.names, String(r.device_id), () => []).push(String(r.name_lower));
    }
    for (const r of await this.rows(ALERT_COUNTS, deviceIds)) {
      slot(facts.alerts, String(r.device_id), () => new Map()).set(String(r.status), Number(r.alerts));
    }

    return facts;
  }

  private async rows(sql: string, deviceIds: string[]): Promise<Row[]> {
    return (await this.db.query<Row>(sql, [deviceIds])).rows;
  }
}

function slot<V>(map: Map<string, V>, key: string, create: () => V): V {
  const existing = map.get(key);
  if (existing !== undefined) return existing;

  const created = create();
  map.set(key, created);
  return created;
}
