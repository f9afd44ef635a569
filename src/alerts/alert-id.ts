import { createHash } from 'node:crypto';

/** Namespace of alert ids (a fixed random UUID), so ids never collide with other name-based UUIDs. */
const ALERT_NAMESPACE = Buffer.from('6f1c2a9e4b7d4e0fa3c58d21e9b04c77', 'hex');

/**
 * A name-based (version 5) UUID of the alert's identity: the same rule, device, device name and target
 * process (graph mode: the same connecting process lifetime) always give the same id, on any database and after
 * any re-run.
 */
export function alertId(parts: {
  ruleId: string;
  deviceId: string;
  deviceName: string;
  processId: number;
  fileName: string;
  /** Graph mode: the connecting process's node key (its lifetime), instead of device name, pid and name. */
  processKey?: string;
}): string {
  const name =
    parts.processKey === undefined
      ? JSON.stringify([parts.ruleId, parts.deviceId, parts.deviceName, parts.processId, parts.fileName])
      : JSON.stringify([parts.ruleId, parts.deviceId, 'graph', parts.processKey]);
  const bytes = createHash('sha1').update(ALERT_NAMESPACE).update(name).digest().subarray(0, 16);
  bytes[6] = (bytes[6] & 0x0f) | 0x50;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = bytes.toString('hex');

  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
