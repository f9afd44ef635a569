import { Inject, Injectable } from '@nestjs/common';

import { ALERT_STATUSES } from '../alerts/alert.model.js';
import { compareStrings } from '../detection/sort.order.js';
import { HOST_DEVICE_PREFIX, isHostDeviceId, type EventTable } from '../vocabulary/graph.vocabulary.js';
import { DeviceRepository, type DeviceFacts, type EventStats } from './device.repository.js';

export interface DeviceSummary {
  deviceId: string;
  /** `defender` for a DeviceId, `sysmon` for a host known by name (`host:<name>`). */
  source: 'defender' | 'sysmon';
  /** Lower-cased names: the DeviceNames a Defender device reported, or the host name. */
  names: string[];
  firstSeen: string;
  lastSeen: string;
  /** Stored events per table. */
  events: Partial<Record<EventTable, number>>;
  /** Alerts on the device per status (every status listed, zeros included). */
  alerts: Record<string, number>;
}

/** The device list: every device with stored events, its properties and alert counts, in one reply per page. */
@Injectable()
export class DeviceService {
  constructor(@Inject(DeviceRepository) private readonly devices: DeviceRepository) {}

  async list(after: string | null, limit: number): Promise<{ items: DeviceSummary[]; nextAfter: string | null }> {
    const ids = await this.devices.page(after, limit);
    const facts = await this.devices.factsOf(ids);
    const items = ids.map((id) => summary(id, facts));

    return { items, nextAfter: ids.length === limit ? ids[ids.length - 1]! : null };
  }
}

function summary(deviceId: string, facts: DeviceFacts): DeviceSummary {
  const stats = [...(facts.events.get(deviceId) ?? new Map<EventTable, EventStats>())];
  const host = isHostDeviceId(deviceId);
  const alertCounts = facts.alerts.get(deviceId) ?? new Map<string, number>();

  return {
    deviceId,
    source: host ? 'sysmon' : 'defender',
    names: host ? [deviceId.slice(HOST_DEVICE_PREFIX.length)] : (facts.names.get(deviceId) ?? []),
    firstSeen: stats.map(([, s]) => s.firstSeen).sort(compareStrings)[0] ?? '',
    lastSeen:
      stats
        .map(([, s]) => s.lastSeen)
        .sort(compareStrings)
        .at(-1) ?? '',
    events: Object.fromEntries(stats.map(([table, s]) => [table, s.events])),
    alerts: Object.fromEntries(ALERT_STATUSES.map((status) => [status, alertCounts.get(status) ?? 0])),
  };
}
