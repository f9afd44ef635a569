import type { SysmonEvent } from '../ingest/event.types.js';
import { SysmonEventId } from '../ingest/event.types.js';
import { processGuidNodeKey, processNodeKey } from '../vocabulary/graph.vocabulary.js';
import { parseEventTime, secondsToTicks, ticksBetween } from './event.time.js';
import { compareStrings } from './sort.order.js';

/** A process as one event names it: any of GUID, pid and image may be missing. */
export interface ProcessRef {
  guid: string | null;
  /** Defender's ProcessUniqueId / InitiatingProcessUniqueId (read in graph mode only). */
  uniqueId?: string | null;
  processId: number | null;
  /** When the process was created, where the event says (read in graph mode only). */
  creationTime?: string | null;
  /** Full image path or bare file name, as logged; null for `<unknown process>`. */
  image: string | null;
  /** Time of the event that names it. */
  timestamp: string;
}

/** A process of a Defender row: a pid and a file name (empty when the row has none), maybe a unique id and creation time. */
export interface DefenderProcessRef {
  processId: number;
  name: string;
  uniqueId: string | null;
  creationTime: string | null;
  timestamp: string;
}

/** How a graph tells processes apart: the reference identity (ProcessResolver) or lifetimes (LifetimeResolver). */
export interface ProcessIdentity {
  /** A reference from an event that may carry a GUID; null when it cannot be told apart from others. */
  resolve(ref: ProcessRef): ResolvedProcess | null;
  /** A Defender process; never unresolvable. */
  defender(ref: DefenderProcessRef): ResolvedProcess;
}

/** Who a reference turned out to be: the node key and what identifies that node. */
export interface ResolvedProcess {
  key: string;
  processId: number;
  /** Lower-cased file name; empty when nothing names the process. */
  fileName: string;
  processGuid: string | null;
  creationTime: string | null;
}

/** How much later than an event a process-create may be stamped and still be the process the event names. */
const CREATE_SKEW_TICKS = secondsToTicks(60);

/** Which events name a GUID's image most reliably: the create, then the process's own events, then others'. */
const IMAGE_RANK = { create: 0, own: 1, target: 2 } as const;

interface GuidProcess {
  guid: string;
  processId: number | null;
  image: { path: string; rank: number; timestamp: string } | null;
  creationTime: string | null;
}

interface CreateEvent {
  guid: string;
  timestamp: string;
}

/**
 * Process identity on one device. A reference with a Sysmon ProcessGuid is that GUID's process, named by the
 * best image any event gives the GUID (so a target logged as `<unknown process>` takes its create's name). A
 * reference without a GUID is (pid, lower-cased file name) as in the reference rule, joined to the GUID process
 * with that pid and name when exactly one exists; a nameless one is the process created with that pid most
 * recently before the event (with a minute of clock skew), or nobody.
 */
export class ProcessResolver implements ProcessIdentity {
  private readonly guids = new Map<string, GuidProcess>();
  private readonly guidsByPidName = new Map<string, Set<string>>();
  private readonly createsByPid = new Map<number, CreateEvent[]>();

  constructor(
    private readonly deviceId: string,
    sysmon: readonly SysmonEvent[],
  ) {
    for (const event of sysmon) this.learn(event);
    for (const creates of this.createsByPid.values()) creates.sort((a, b) => compareStrings(a.timestamp, b.timestamp));
    for (const process of this.guids.values()) this.indexByPidName(process);
  }

  resolve(ref: ProcessRef): ResolvedProcess | null {
    if (ref.guid !== null) return this.ofGuid(ref.guid, ref.processId);
    if (ref.processId === null) return null;
    if (ref.image !== null) return this.named(ref.processId, fileNameOf(ref.image));

    const created = this.createdBefore(ref.processId, ref.timestamp);
    return created === null ? null : this.ofGuid(created.guid, ref.processId);
  }

  defender(ref: DefenderProcessRef): ResolvedProcess {
    return this.named(ref.processId, ref.name);
  }

  /** A Defender reference: pid and file name (possibly empty), never unresolvable. */
  named(processId: number, fileName: string): ResolvedProcess {
    const name = fileName.toLowerCase();
    const guids = this.guidsByPidName.get(pidNameKey(processId, name));
    if (guids?.size === 1) return this.guidProcess([...guids][0]!, processId);

    const key = processNodeKey(this.deviceId, processId, name);
    return { key, processId, fileName: name, processGuid: null, creationTime: null };
  }

  private ofGuid(guid: string, processId: number | null): ResolvedProcess | null {
    const pid = processId ?? this.guids.get(guid)?.processId ?? null;

    return pid === null ? null : this.guidProcess(guid, pid);
  }

  private guidProcess(guid: string, pid: number): ResolvedProcess {
    const process = this.guids.get(guid);

    return {
      key: processGuidNodeKey(this.deviceId, guid),
      processId: pid,
      fileName: process?.image ? fileNameOf(process.image.path).toLowerCase() : '',
      processGuid: guid,
      creationTime: process?.creationTime ?? null,
    };
  }

  private createdBefore(processId: number, timestamp: string): CreateEvent | null {
    const creates = this.createsByPid.get(processId) ?? [];
    const at = parseEventTime(timestamp);
    let found: CreateEvent | null = null;
    for (const create of creates) {
      if (ticksBetween(at, parseEventTime(create.timestamp)) > CREATE_SKEW_TICKS) break;
      found = create;
    }

    return found;
  }

  private learn(event: SysmonEvent): void {
    const isCreate = event.eventId === SysmonEventId.ProcessCreate;
    this.see(event.processGuid, event.processId, event.image, isCreate ? IMAGE_RANK.create : IMAGE_RANK.own, event);
    this.see(event.parentProcessGuid, event.parentProcessId, event.parentImage, IMAGE_RANK.own, event);
    this.see(event.targetProcessGuid, event.targetProcessId, event.targetImage, IMAGE_RANK.target, event);
    if (!isCreate || event.processGuid === null || event.processId === null) return;

    this.guids.get(event.processGuid)!.creationTime = event.timestamp;
    const creates = this.createsByPid.get(event.processId) ?? [];
    creates.push({ guid: event.processGuid, timestamp: event.timestamp });
    this.createsByPid.set(event.processId, creates);
  }

  private see(guid: string | null, processId: number | null, image: string | null, rank: number, event: SysmonEvent) {
    if (guid === null) return;

    const process = this.guids.get(guid) ?? { guid, processId: null, image: null, creationTime: null };
    process.processId ??= processId;
    if (image !== null && betterImage(process.image, image, rank, event.timestamp)) {
      process.image = { path: image, rank, timestamp: event.timestamp };
    }
    this.guids.set(guid, process);
  }

  private indexByPidName(process: GuidProcess): void {
    if (process.processId === null || process.image === null) return;

    const key = pidNameKey(process.processId, fileNameOf(process.image.path).toLowerCase());
    const guids = this.guidsByPidName.get(key) ?? new Set<string>();
    guids.add(process.guid);
    this.guidsByPidName.set(key, guids);
  }
}

/** Lower rank wins, then the earlier event, then the smaller path, so any input order names a GUID the same way. */
function betterImage(current: GuidProcess['image'], path: string, rank: number, timestamp: string): boolean {
  if (current === null) return true;

  if (rank !== current.rank) return rank < current.rank;
  if (timestamp !== current.timestamp) return compareStrings(timestamp, current.timestamp) < 0;

  return compareStrings(path, current.path) < 0;
}

/** `C:\Windows\System32\notepad.exe` → `notepad.exe`; a bare name stays as it is. */
export function fileNameOf(image: string): string {
  const slash = Math.max(image.lastIndexOf('\\'), image.lastIndexOf('/'));

  return slash < 0 ? image : image.slice(slash + 1);
}

function pidNameKey(processId: number, fileName: string): string {
  return `${processId}\u0000${fileName}`;
}
