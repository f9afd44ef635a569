import type { CanonicalEvent, DeviceEvent, DeviceNetworkEvent } from '../ingest/event.types.js';
import {
  ADWS_CONNECTION_ACTION_TYPE,
  canonicalInjectionActionType,
  type EvidenceRef,
} from '../vocabulary/graph.vocabulary.js';

/** An injection event the graph keeps: pids known, target named, action type one of the eight. */
export interface EligibleInjection {
  event: DeviceEvent;
  actionType: string;
  injectorId: number;
  targetId: number;
  targetName: string;
}

/** An ADWS connection the graph keeps: success on an ADWS port from a known, named process. */
export interface EligibleConnection {
  event: DeviceNetworkEvent;
  processId: number;
  processName: string;
  remotePort: number;
}

/** Rule 2 plus what a graph edge needs (both pids); null when the event is no injection evidence. */
export function eligibleInjection(event: DeviceEvent): EligibleInjection | null {
  const actionType = canonicalInjectionActionType(event.actionType);
  const { initiatingProcessId, processId, fileName } = event;
  if (actionType === null || initiatingProcessId === null || processId === null || !fileName) return null;

  return { event, actionType, injectorId: initiatingProcessId, targetId: processId, targetName: fileName };
}

/** Rule 1 plus what rule 4 needs of the connecting process (pid and a non-empty name). */
export function eligibleConnection(event: DeviceNetworkEvent, adwsPorts: readonly number[]): EligibleConnection | null {
  const { actionType, remotePort, initiatingProcessId, initiatingProcessFileName } = event;
  if (actionType !== ADWS_CONNECTION_ACTION_TYPE || remotePort === null || !adwsPorts.includes(remotePort)) return null;
  if (initiatingProcessId === null || !initiatingProcessFileName) return null;

  return { event, processId: initiatingProcessId, processName: initiatingProcessFileName, remotePort };
}

export function evidenceRefOf(event: CanonicalEvent): EvidenceRef {
  return { table: event.table, deviceId: event.deviceId, eventKey: event.eventKey };
}

/** One string per stored event, for sets and sorting: table, device, event key. */
export function evidenceId(ref: EvidenceRef): string {
  return `${ref.table}\u0000${ref.deviceId}\u0000${ref.eventKey}`;
}
