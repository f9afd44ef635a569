import type { Database } from '../database/database.js';
import { hostDeviceId, isHostDeviceId } from '../vocabulary/graph.vocabulary.js';
import { namesInvolved, planUnits, type NameFacts, type UnitPlan } from './device-unit.resolver.js';

const NAMES_OF_DEVICES = `
SELECT device_id, name_lower FROM device_names WHERE device_id = ANY($1::text[])`;

const DEVICES_NAMED = `
SELECT device_id, name_lower FROM device_names WHERE name_lower = ANY($1::text[])`;

const HOSTS_WITH_EVENTS = `
SELECT h.device_id FROM unnest($1::text[]) AS h(device_id)
WHERE EXISTS (SELECT 1 FROM sysmon_events s WHERE s.device_id = h.device_id)`;

type NameRow = { device_id: string; name_lower: string };

/**
 * Reads the name facts a unit plan needs (device_names, and which Sysmon hosts have events) and plans the
 * correlation units of a set of device ids (see device-unit.resolver.ts).
 */
export class DeviceUnitRepository {
  constructor(private readonly db: Database) {}

  async plan(deviceIds: string[]): Promise<UnitPlan> {
    return planUnits(deviceIds, await this.factsFor(deviceIds));
  }

  /**
   * The touched devices' names, and for every name a Sysmon host has events under: every device carrying it, and
   * their other such names with every device carrying those (so each unit's ownership is decided on full facts).
   * Names no Sysmon host has cost one query and pull nothing in.
   */
  private async factsFor(deviceIds: string[]): Promise<NameFacts> {
    const own = await this.rows(
      NAMES_OF_DEVICES,
      deviceIds.filter((id) => !isHostDeviceId(id)),
    );
    const involved = namesInvolved(deviceIds, uniquePairs(own));
    const hosts = await this.hostsWithEvents(involved.map(hostDeviceId));
    const sharing = await this.rows(
      DEVICES_NAMED,
      involved.filter((n) => hosts.has(hostDeviceId(n))),
    );
    const theirNames = await this.rows(NAMES_OF_DEVICES, distinct(sharing.map((r) => r.device_id)));
    const moreHosts = await this.hostsWithEvents(distinct(theirNames.map((r) => hostDeviceId(r.name_lower))));
    const rivalNames = distinct(theirNames.map((r) => r.name_lower)).filter((n) => moreHosts.has(hostDeviceId(n)));
    const rivals = await this.rows(DEVICES_NAMED, rivalNames);

    return {
      names: uniquePairs([...own, ...sharing, ...theirNames, ...rivals]),
      hostsWithEvents: new Set([...hosts, ...moreHosts]),
    };
  }

  private async hostsWithEvents(hostIds: string[]): Promise<Set<string>> {
    if (hostIds.length === 0) return new Set();

    const result = await this.db.query<{ device_id: string }>(HOSTS_WITH_EVENTS, [hostIds]);
    return new Set(result.rows.map((row) => row.device_id));
  }

  private async rows(sql: string, values: string[]): Promise<NameRow[]> {
    if (values.length === 0) return [];

    return (await this.db.query<NameRow>(sql, [values])).rows;
  }
}

function distinct(values: string[]): string[] {
  return [...new Set(values)];
}

function uniquePairs(rows: NameRow[]): [string, string][] {
  const pairs = new Map<string, [string, string]>();
  for (const row of rows) pairs.set(`${row.device_id}\u0000${row.name_lower}`, [row.device_id, row.name_lower]);

  return [...pairs.values()];
}
