import type { EvidenceRef } from '../vocabulary/graph.vocabulary.js';

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
}
