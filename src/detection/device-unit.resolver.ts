import { hostDeviceId, HOST_DEVICE_PREFIX, isHostDeviceId } from '../vocabulary/graph.vocabulary.js';
import { compareStrings } from './sort.order.js';

/**
 * The events correlated in one graph: a Defender device with the Sysmon hosts that carry one of its names, or a
 * Sysmon host that no Defender device names. `deviceId` is the graph's (and its alerts') device id.
 */
export interface DeviceUnit {
  deviceId: string;
  defenderIds: string[];
  hostIds: string[];
}

/**
 * What is known about names: which Defender device reported which lower-cased name, and which hosts exist. A name
 * no Sysmon host has events under joins nothing, so devices sharing only such names are not pulled in.
 */
export interface NameFacts {
  /** (Defender device id, lower-cased DeviceName) pairs: every pair of the devices and names involved. */
  names: readonly (readonly [string, string])[];
  /** Sysmon hosts (`host:<name>`) that have stored events. */
  hostsWithEvents: ReadonlySet<string>;
}

export interface UnitPlan {
  /** The graphs to build. */
  units: DeviceUnit[];
  /** Every device id whose alerts are reconciled: the units' ids and hosts now merged into another unit. */
  reconcileIds: string[];
}

/**
 * Groups device ids into correlation units. A Sysmon host `host:<n>` joins the graph of the Defender device that
 * reported the DeviceName `n` (compared as hostNameKey compares); when several did, the smallest device id, so the
 * choice does not depend on arrival order. A host merged into a device is reconciled too: alerts it raised alone
 * before the device was known are retracted and raised again on the device.
 */
// TODO: names meet only when equal as a whole; a Defender device known by its short name (`ws5`) and a Sysmon host
// logging its DNS name (`ws5.corp.local`) stay apart, since a short name alone cannot tell two domains' hosts apart.
export function planUnits(deviceIds: readonly string[], facts: NameFacts): UnitPlan {
  const ownerOf = ownersByName(facts.names);
  const namesOf = namesByDevice(facts.names);
  const involved = new Set(namesInvolved(deviceIds, facts.names));
  const defenderIds = new Set(deviceIds.filter((id) => !isHostDeviceId(id)));
  for (const [deviceId, name] of facts.names) {
    if (involved.has(name) && facts.hostsWithEvents.has(hostDeviceId(name))) defenderIds.add(deviceId);
  }
  const hostIds = new Set(deviceIds.filter(isHostDeviceId));
  for (const name of involved) if (facts.hostsWithEvents.has(hostDeviceId(name))) hostIds.add(hostDeviceId(name));

  const units: DeviceUnit[] = [];
  for (const id of [...defenderIds].sort(compareStrings)) units.push(defenderUnit(id, namesOf, ownerOf, facts));
  for (const host of [...hostIds].sort(compareStrings)) {
    if (!ownerOf.has(nameOfHost(host))) units.push({ deviceId: host, defenderIds: [], hostIds: [host] });
  }
  const reconcileIds = [...new Set([...defenderIds, ...hostIds])].sort(compareStrings);

  return { units, reconcileIds };
}

/** The names a detection of `deviceIds` involves: the touched Defender devices' names and the touched hosts'. */
export function namesInvolved(deviceIds: readonly string[], names: NameFacts['names']): string[] {
  const touched = new Set(deviceIds);
  const involved = new Set(deviceIds.filter(isHostDeviceId).map(nameOfHost));
  for (const [deviceId, name] of names) if (touched.has(deviceId)) involved.add(name);

  return [...involved].sort(compareStrings);
}

function nameOfHost(hostId: string): string {
  return hostId.slice(HOST_DEVICE_PREFIX.length);
}

function defenderUnit(
  deviceId: string,
  namesOf: Map<string, string[]>,
  ownerOf: Map<string, string>,
  facts: NameFacts,
): DeviceUnit {
  const hostIds = (namesOf.get(deviceId) ?? [])
    .filter((name) => ownerOf.get(name) === deviceId && facts.hostsWithEvents.has(hostDeviceId(name)))
    .map(hostDeviceId);

  return { deviceId, defenderIds: [deviceId], hostIds };
}

function ownersByName(names: NameFacts['names']): Map<string, string> {
  const owners = new Map<string, string>();
  for (const [deviceId, name] of names) {
    const owner = owners.get(name);
    if (owner === undefined || compareStrings(deviceId, owner) < 0) owners.set(name, deviceId);
  }

  return owners;
}

function namesByDevice(names: NameFacts['names']): Map<string, string[]> {
  const byDevice = new Map<string, string[]>();
  for (const [deviceId, name] of names) byDevice.set(deviceId, [...(byDevice.get(deviceId) ?? []), name]);
  for (const list of byDevice.values()) list.sort(compareStrings);

  return byDevice;
}
