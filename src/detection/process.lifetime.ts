import {
  processGuidNodeKey,
  processNodeKey,
  processUniqueIdNodeKey,
  processLifetimeNodeKey,
} from '../vocabulary/graph.vocabulary.js';
import { parseEventTime, secondsToTicks, ticksBetween } from './event.time.js';
import {
  fileNameOf,
  type DefenderProcessRef,
  type ProcessIdentity,
  type ProcessRef,
  type ResolvedProcess,
} from './process.identity.js';
import { compareStrings } from './sort.order.js';

/** Creation times of one process seen by two sources (Defender, Sysmon) differ by milliseconds; a pid is not reused that fast. */
const SAME_CREATION_TICKS = secondsToTicks(1);
/** How much later than an event a process may be stamped as created and still be the process the event names. */
const CREATE_SKEW_TICKS = secondsToTicks(1);

/** Everything one event says about a process, before identities are merged. */
export interface ProcessFact {
  guid: string | null;
  uniqueId: string | null;
  processId: number | null;
  creationTime: string | null;
  image: string | null;
}

interface Lifetime {
  key: string;
  processId: number;
  guid: string | null;
  creationTime: string | null;
  names: Set<string>;
  image: string | null;
}

/**
 * Process identity by lifetime (graph mode). Facts that share a Sysmon ProcessGuid, a Defender ProcessUniqueId or a
 * (pid, creation time) — creation times within a second of each other, from either source — are one process. Its
 * key is its GUID, else its unique id, else pid@creation time. A reference with only a pid (and maybe a name) is the
 * process with that pid (and name) created most recently before the event, a second of skew allowed; failing that,
 * the single such process if its creation time is unknown; failing that, the reference identity (pid, name). So a recycled pid with another creation
 * time is another node, and an injection into the old process does not reach the new one. A process created after
 * an event (one second of skew) is never the one the event names.
 */
export class LifetimeResolver implements ProcessIdentity {
  private readonly lifetimes = new Map<string, Lifetime>();
  /** Fact key (`g:`, `u:`, `p:`) → lifetime key. */
  private readonly keyOf = new Map<string, string>();
  private readonly byPid = new Map<number, Lifetime[]>();

  constructor(
    private readonly deviceId: string,
    facts: readonly ProcessFact[],
  ) {
    const groups = new UnionFind();
    const known = facts.filter(
      (f) => f.guid !== null || f.uniqueId !== null || (f.processId !== null && f.creationTime !== null),
    );
    for (const fact of known) linkFact(groups, fact);
    linkCloseCreations(groups, known);
    this.buildLifetimes(groups, known);
  }

  resolve(ref: ProcessRef): ResolvedProcess | null {
    const strong = this.strongKey(ref);
    if (strong !== null) return this.toResolved(this.lifetimes.get(strong)!, ref.processId);
    if (ref.processId === null) return null;

    const name = ref.image === null ? null : fileNameOf(ref.image).toLowerCase();
    const lifetime = this.byPidAndTime(ref.processId, name, ref.timestamp);
    if (lifetime !== null) return this.toResolved(lifetime, ref.processId);

    return name === null ? null : this.referenceIdentity(ref.processId, name);
  }

  defender(ref: DefenderProcessRef): ResolvedProcess {
    const { processId, name, uniqueId, creationTime, timestamp } = ref;

    return this.resolve({ guid: null, uniqueId, processId, creationTime, image: name, timestamp })!;
  }

  private strongKey(ref: ProcessRef): string | null {
    const candidates = [
      ref.guid === null ? null : `g:${ref.guid}`,
      ref.uniqueId ? `u:${ref.uniqueId}` : null,
      ref.processId !== null && ref.creationTime ? `p:${ref.processId}@${ref.creationTime}` : null,
    ];
    for (const key of candidates) if (key !== null && this.keyOf.has(key)) return this.keyOf.get(key)!;

    return null;
  }

  /** Created most recently before the event (skew allowed); else the one lifetime there is with that pid. */
  private byPidAndTime(processId: number, name: string | null, timestamp: string): Lifetime | null {
    const named = (this.byPid.get(processId) ?? []).filter(
      (l) => name === null || l.names.size === 0 || l.names.has(name),
    );
    const at = parseEventTime(timestamp);
    let found: Lifetime | null = null;
    for (const lifetime of named) {
      if (lifetime.creationTime === null) continue;
      if (ticksBetween(at, parseEventTime(lifetime.creationTime)) > CREATE_SKEW_TICKS) continue;
      if (found === null || compareStrings(lifetime.creationTime, found.creationTime!) > 0) found = lifetime;
    }

    if (found !== null) return found;
    // A process created after the event cannot be the one it names, even when it is the only one with that pid.
    const single = named.length === 1 ? named[0]! : null;

    return single !== null && single.creationTime === null ? single : null;
  }

  private referenceIdentity(processId: number, name: string): ResolvedProcess {
    const key = processNodeKey(this.deviceId, processId, name);

    return { key, processId, fileName: name, processGuid: null, creationTime: null };
  }

  private toResolved(lifetime: Lifetime, processId: number | null): ResolvedProcess {
    const fileName = lifetime.image ? fileNameOf(lifetime.image).toLowerCase() : ([...lifetime.names].sort()[0] ?? '');

    return {
      key: lifetime.key,
      processId: processId ?? lifetime.processId,
      fileName,
      processGuid: lifetime.guid,
      creationTime: lifetime.creationTime,
    };
  }

  private buildLifetimes(groups: UnionFind, facts: readonly ProcessFact[]): void {
    const members = groupMembers(groups, facts);
    joinAcrossSources(groups, members);
    for (const group of groupMembers(groups, facts).values()) this.addLifetime(group);
  }

  private addLifetime(group: ProcessFact[]): void {
    const guid = minOf(group.map((f) => f.guid));
    const uniqueId = minOf(group.map((f) => f.uniqueId));
    const processId = group.find((f) => f.processId !== null)?.processId ?? -1;
    const creationTime = minOf(group.map((f) => f.creationTime));
    const key =
      guid !== null
        ? processGuidNodeKey(this.deviceId, guid)
        : uniqueId !== null
          ? processUniqueIdNodeKey(this.deviceId, uniqueId)
          : processLifetimeNodeKey(this.deviceId, processId, creationTime!);
    const names = new Set(group.flatMap((f) => (f.image ? [fileNameOf(f.image).toLowerCase()] : [])));
    const image = minOf(group.map((f) => (f.image && /[\\/]/.test(f.image) ? f.image : null)));
    const lifetime: Lifetime = { key, processId, guid, creationTime, names, image };

    this.lifetimes.set(key, lifetime);
    for (const fact of group) for (const factKey of factKeys(fact)) this.keyOf.set(factKey, key);
    if (processId >= 0) this.byPid.set(processId, [...(this.byPid.get(processId) ?? []), lifetime]);
  }
}

function groupMembers(groups: UnionFind, facts: readonly ProcessFact[]): Map<string, ProcessFact[]> {
  const members = new Map<string, ProcessFact[]>();
  for (const fact of facts) {
    const root = groups.find(factKeys(fact)[0]!);
    members.set(root, [...(members.get(root) ?? []), fact]);
  }

  return members;
}

/**
 * A Sysmon process whose creation was not loaded (a GUID, no creation time) and a Defender process known by pid and
 * creation time are one process when each is the only one of its kind with that pid and image name.
 */
function joinAcrossSources(groups: UnionFind, members: Map<string, ProcessFact[]>): void {
  const byPidName = new Map<string, { guidOnly: string[]; timed: string[] }>();
  for (const [root, group] of members) {
    const processId = group.find((f) => f.processId !== null)?.processId;
    const names = new Set(group.flatMap((f) => (f.image ? [fileNameOf(f.image).toLowerCase()] : [])));
    if (processId === undefined || names.size !== 1) continue;

    const key = `${processId}\u0000${[...names][0]}`;
    const slot = byPidName.get(key) ?? { guidOnly: [], timed: [] };
    const hasGuid = group.some((f) => f.guid !== null);
    const hasTime = group.some((f) => f.creationTime);
    if (hasGuid && !hasTime) slot.guidOnly.push(root);
    else if (!hasGuid && hasTime) slot.timed.push(root);
    byPidName.set(key, slot);
  }
  for (const { guidOnly, timed } of byPidName.values()) {
    if (guidOnly.length === 1 && timed.length === 1) groups.union(guidOnly[0]!, timed[0]!);
  }
}

function factKeys(fact: ProcessFact): string[] {
  const keys: string[] = [];
  if (fact.guid !== null) keys.push(`g:${fact.guid}`);
  if (fact.uniqueId) keys.push(`u:${fact.uniqueId}`);
  if (fact.processId !== null && fact.creationTime) keys.push(`p:${fact.processId}@${fact.creationTime}`);

  return keys;
}

function linkFact(groups: UnionFind, fact: ProcessFact): void {
  const [first, ...rest] = factKeys(fact);
  groups.add(first!);
  for (const key of rest) groups.union(first!, key);
}

/** One pid's creation times within a second of each other are one process seen by two clocks. */
function linkCloseCreations(groups: UnionFind, facts: readonly ProcessFact[]): void {
  const timesByPid = new Map<number, Set<string>>();
  for (const f of facts) {
    if (f.processId === null || !f.creationTime) continue;
    timesByPid.set(f.processId, (timesByPid.get(f.processId) ?? new Set()).add(f.creationTime));
  }
  for (const [pid, times] of timesByPid) {
    const sorted = [...times].sort(compareStrings);
    for (let i = 1; i < sorted.length; i++) {
      const gap = ticksBetween(parseEventTime(sorted[i - 1]!), parseEventTime(sorted[i]!));
      if (gap <= SAME_CREATION_TICKS) groups.union(`p:${pid}@${sorted[i - 1]}`, `p:${pid}@${sorted[i]}`);
    }
  }
}

function minOf(values: readonly (string | null)[]): string | null {
  const present = values.filter((v): v is string => !!v).sort(compareStrings);

  return present[0] ?? null;
}

/** Union-find over string keys; the smaller key is the root, so any input order gives the same groups. */
class UnionFind {
  private readonly parent = new Map<string, string>();

  add(key: string): void {
    if (!this.parent.has(key)) this.parent.set(key, key);
  }

  find(key: string): string {
    this.add(key);
    let root = key;
    while (this.parent.get(root) !== root) root = this.parent.get(root)!;
    this.parent.set(key, root);

    return root;
  }

  union(a: string, b: string): void {
    const [ra, rb] = [this.find(a), this.find(b)];
    if (ra === rb) return;
    if (compareStrings(ra, rb) < 0) this.parent.set(rb, ra);
    else this.parent.set(ra, rb);
  }
}
