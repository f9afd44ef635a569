import type { RuleMode } from '../rules/rule.types.js';
import type { EdgeKind, EvidenceRef, NodeKind } from '../vocabulary/graph.vocabulary.js';

export interface InjectorSummary {
  processId: number;
  fileName: string;
  folderPath: string | null;
  /** Canonical spellings, sorted. */
  actionTypes: string[];
  firstSeen: string;
  lastSeen: string;
}

export interface ConnectionSummary {
  timestamp: string;
  remoteIp: string;
  remotePort: number;
  localIp: string | null;
  localPort: number | null;
}

/** One node of an alert path: a process (injector, injected, descendant, connecting) or the ADWS endpoint. */
export interface PathNode {
  key: string;
  kind: NodeKind;
  /** Processes: pid, lower-cased image name ('' when unknown), GUID and creation time where known. */
  processId?: number;
  fileName?: string;
  processGuid?: string | null;
  creationTime?: string | null;
  /** The endpoint. */
  remoteIp?: string;
  remotePort?: number;
}

/** One edge of an alert path with the stored events behind it (only those that satisfy the rule). */
export interface PathEdge {
  key: string;
  kind: EdgeKind;
  source: string;
  target: string;
  firstSeen: string;
  lastSeen: string;
  /** Injection methods, for `injected` edges. */
  methods?: string[];
  evidence: EvidenceRef[];
}

/** Ordered nodes and edges from the first injector to the ADWS endpoint. */
export interface AlertPath {
  nodes: PathNode[];
  edges: PathEdge[];
  /** The connecting process descends (spawned edges) from the last injected process. */
  viaDescendant: boolean;
}

/** An exclusion in force when the alert was derived, and how many injection events near it it held back. */
export interface ExclusionReport {
  description: string;
  excludedEvents: number;
}

/**
 * What the detector derives from one device graph for one target process: everything an alert
 * shows, computed from evidence alone (no ids, statuses or clocks). Times are canonical ISO strings.
 */
export interface AlertCandidate {
  ruleId: string;
  deviceId: string;
  deviceName: string;
  hostName: string;
  dnsDomain: string;
  /** Earliest matching ADWS connection. */
  timestamp: string;
  processId: number;
  /** Lower-cased target image name. */
  fileName: string;
  injectionMethods: string[];
  /** Sorted by processId, then fileName. */
  injectors: InjectorSummary[];
  /** Sorted by timestamp, then remote endpoint. */
  connections: ConnectionSummary[];
  /** Every stored event behind the alert, sorted. */
  evidence: EvidenceRef[];
  /** Graph node keys on the path(s): injectors, target, ADWS endpoints. */
  nodeKeys: string[];
  /** The rule mode that derived the alert. */
  mode: RuleMode;
  /** Graph mode: the connecting process's node key, which the alert id is derived from. */
  processKey?: string;
  /** The first of `paths`: earliest first injection, then longest. */
  path: AlertPath;
  /** Every path behind the alert (each maximal chain into the connecting process). */
  paths: AlertPath[];
  /** Graph mode: every path reaches the connection through a descendant of the injected process. */
  viaDescendant: boolean;
  /** What is missing from the evidence, e.g. an injector whose process creation was never seen. */
  evidenceGaps: string[];
  /** The exclusions considered, with the injection events into the alert's processes each one held back. */
  exclusionsConsidered: ExclusionReport[];
}

/** The fields of a candidate that explain it rather than state what was detected. */
export type AlertExplanation = Pick<
  AlertCandidate,
  'mode' | 'processKey' | 'path' | 'paths' | 'viaDescendant' | 'evidenceGaps' | 'exclusionsConsidered'
>;
