import { Inject, Injectable } from '@nestjs/common';

import { SysmonEventId, type DeviceEvent, type DeviceNetworkEvent, type SysmonEvent } from '../ingest/event.types.js';
import { EventRepository } from '../ingest/event.repository.js';
import { SysmonEventRepository, type ProcessPairs } from '../ingest/sysmon-event.repository.js';
import type { DeviceUnit } from './device-unit.resolver.js';
import type { DeviceGraphEvents } from './graph.builder.js';

/**
 * Loads what the rule can use for a set of correlation units, without reading a device's whole history:
 * ADWS connections from both sources; injections (Defender's eight action types, Sysmon event 8) into a
 * process with a connecting pid on any member of the unit; and the Sysmon process creations of those pids,
 * which name processes logged as `<unknown process>` and carry their GUIDs. The graph builder does the exact
 * matching (GUID, or pid and name); the loads only narrow by pid.
 */
@Injectable()
export class CorrelationLoader {
  constructor(
    @Inject(EventRepository) private readonly events: EventRepository,
    @Inject(SysmonEventRepository) private readonly sysmon: SysmonEventRepository,
  ) {}

  /**
   * `reach` (graph mode) follows chains: after the injections into the connecting processes, the injections into
   * their injectors, and with `descendants` into their ancestors (Sysmon parents, Defender InitiatingProcessParentId),
   * for `depth` rounds in all.
   */
  async load(units: DeviceUnit[], adwsPorts: number[], reach: Reach = DIRECT): Promise<Map<string, DeviceGraphEvents>> {
    const buckets = new UnitBuckets(units);
    const defender = await this.events.loadCorrelationEvents(buckets.defenderIds(), adwsPorts);
    buckets.add(defender.injections, (events, e) => events.injections.push(e));
    buckets.add(defender.connections, (events, e) => events.connections.push(e));
    const sysmonConnections = await this.sysmon.connections(buckets.hostIds(), adwsPorts);
    buckets.add(sysmonConnections, (events, e) => events.sysmon.push(e));

    const threads = await this.sysmon.threadsInto(buckets.pairs((u) => u.hostIds, connectingPids));
    buckets.add(threads, (events, e) => events.sysmon.push(e));
    const byGuid = await this.sysmon.threadsIntoGuids(buckets.guidPairs());
    buckets.add(byGuid, (events, e) => events.sysmon.push(e));
    // The graph builder counts an event once, so an injection found by both Defender loads may come twice here.
    const crossSource = await this.events.injectionsInto(buckets.pairs((u) => u.defenderIds, sysmonConnectingPids));
    buckets.add(crossSource, (events, e) => events.injections.push(e));
    const creates = await this.sysmon.createsOf(buckets.pairs((u) => u.hostIds, involvedPids));
    buckets.add(creates, (events, e) => events.sysmon.push(e));
    for (let round = 2; round <= reach.depth; round++) if (!(await this.expand(buckets, reach))) break;

    return buckets.byUnit;
  }

  /** One more round back along chains; false when no unit has a process left to follow. */
  private async expand(buckets: UnitBuckets, reach: Reach): Promise<boolean> {
    const frontier = buckets.nextFrontier(reach.descendants);
    if (frontier.size === 0) return false;

    const pidsOf = (events: UnitEvents) => frontier.get(events) ?? new Set<number>();
    buckets.add(await this.sysmon.threadsInto(buckets.pairs((u) => u.hostIds, pidsOf)), (e, x) => e.sysmon.push(x));
    buckets.add(await this.events.injectionsInto(buckets.pairs((u) => u.defenderIds, pidsOf)), (e, x) =>
      e.injections.push(x),
    );
    buckets.add(await this.sysmon.createsOf(buckets.pairs((u) => u.hostIds, pidsOf)), (e, x) => e.sysmon.push(x));

    return true;
  }
}

/** How far back the loads follow: `depth` rounds of injections, and parents when `descendants`. */
export interface Reach {
  depth: number;
  descendants: boolean;
}

/** Reference mode: the injections into the connecting processes only. */
const DIRECT: Reach = { depth: 1, descendants: false };

interface UnitEvents {
  injections: DeviceEvent[];
  connections: DeviceNetworkEvent[];
  sysmon: SysmonEvent[];
  hostIds: string[];
}

/** The events of each unit, filled load by load; an event goes to the unit its device id belongs to. */
class UnitBuckets {
  readonly byUnit = new Map<string, UnitEvents>();
  private readonly unitOfMember = new Map<string, string>();
  /** Pids whose injections and creations are loaded, per unit's events. */
  private readonly followed = new Map<UnitEvents, Set<number>>();

  constructor(private readonly units: DeviceUnit[]) {
    for (const unit of units) {
      this.byUnit.set(unit.deviceId, { injections: [], connections: [], sysmon: [], hostIds: unit.hostIds });
      for (const id of [...unit.defenderIds, ...unit.hostIds]) this.unitOfMember.set(id, unit.deviceId);
    }
  }

  defenderIds(): string[] {
    return this.units.flatMap((u) => u.defenderIds);
  }

  hostIds(): string[] {
    return this.units.flatMap((u) => u.hostIds);
  }

  add<E extends { deviceId: string }>(events: E[], add: (unitEvents: UnitEvents, event: E) => void): void {
    for (const event of events) {
      const unitId = this.unitOfMember.get(event.deviceId);
      if (unitId !== undefined) add(this.byUnit.get(unitId)!, event);
    }
  }

  /** (host, GUID) of every Sysmon process that connected: threads into them count whether they carry a pid or not. */
  guidPairs(): (readonly [string, string])[] {
    return [...this.byUnit.values()].flatMap((events) =>
      events.sysmon
        .filter((e) => e.eventId === SysmonEventId.NetworkConnect && e.processGuid !== null)
        .map((e) => [e.deviceId, e.processGuid!] as const),
    );
  }

  /**
   * Per unit, the pids to follow next: injectors of the loaded injections and, with `descendants`, parents of the
   * loaded processes, less those followed already (the first round followed the connecting pids).
   */
  nextFrontier(descendants: boolean): Map<UnitEvents, Set<number>> {
    const frontier = new Map<UnitEvents, Set<number>>();
    for (const events of this.byUnit.values()) {
      const followed = this.followed.get(events) ?? connectingPids(events);
      const next = new Set([...chainPids(events, descendants)].filter((pid) => !followed.has(pid)));
      this.followed.set(events, new Set([...followed, ...next]));
      if (next.size > 0) frontier.set(events, next);
    }

    return frontier;
  }

  /** (member, pid) for every member `membersOf` picks and every pid `pidsOf` finds in the unit's events. */
  pairs(membersOf: (unit: DeviceUnit) => string[], pidsOf: (events: UnitEvents) => Set<number>): ProcessPairs {
    return this.units.flatMap((unit) => {
      const members = membersOf(unit);
      if (members.length === 0) return [];

      const pids = [...pidsOf(this.byUnit.get(unit.deviceId)!)].sort((a, b) => a - b);
      return members.flatMap((member) => pids.map((pid) => [member, pid] as const));
    });
  }
}

/** Pids that connected to an ADWS port, from either source. */
function connectingPids(events: UnitEvents): Set<number> {
  const pids = sysmonConnectingPids(events);
  for (const c of events.connections) if (c.initiatingProcessId !== null) pids.add(c.initiatingProcessId);

  return pids;
}

/** Pids of Sysmon processes that connected (the other side of a cross-source join with Defender injections). */
function sysmonConnectingPids(events: UnitEvents): Set<number> {
  const pids = new Set<number>();
  for (const e of events.sysmon)
    if (e.processId !== null && e.eventId === SysmonEventId.NetworkConnect) pids.add(e.processId);

  return pids;
}

/** Injectors of every loaded injection, and with `descendants` the parents of every loaded process. */
function chainPids(events: UnitEvents, descendants: boolean): Set<number> {
  const pids = new Set<number>();
  for (const e of events.injections) if (e.initiatingProcessId !== null) pids.add(e.initiatingProcessId);
  for (const e of events.sysmon) {
    if (e.eventId === SysmonEventId.CreateRemoteThread && e.processId !== null) pids.add(e.processId);
    if (descendants && e.eventId === SysmonEventId.ProcessCreate && e.parentProcessId !== null)
      pids.add(e.parentProcessId);
  }
  if (descendants)
    for (const c of events.connections) if (c.initiatingProcessParentId) pids.add(c.initiatingProcessParentId);

  return pids;
}

/** Connecting pids, and the sources and targets of injections: the processes whose creations name them. */
function involvedPids(events: UnitEvents): Set<number> {
  const pids = connectingPids(events);
  for (const e of events.sysmon) {
    if (e.processId !== null) pids.add(e.processId);
    if (e.targetProcessId !== null) pids.add(e.targetProcessId);
  }
  for (const e of events.injections) {
    if (e.processId !== null) pids.add(e.processId);
    if (e.initiatingProcessId !== null) pids.add(e.initiatingProcessId);
  }

  return pids;
}

/** What a rule's settings need loaded: one round in reference mode, the chain depth and parents in graph mode. */
export function reachOf(settings: { mode: string; maxChainDepth: number; followDescendants: boolean }): Reach {
  if (settings.mode !== 'graph') return DIRECT;

  return { depth: settings.maxChainDepth, descendants: settings.followDescendants };
}
