import type { AlertCandidate, AlertPath } from '../detection/alert.types.js';
import type { SuppressionRecord } from '../suppressions/suppression.types.js';

export const AlertStatus = {
  New: 'new',
  /** The evidence no longer satisfies the rule under the current settings (after a re-run). */
  Retracted: 'retracted',
  /** Derived, but held back by a suppression in force (recorded on the alert as `suppression`). */
  Suppressed: 'suppressed',
} as const;
export type AlertStatus = (typeof AlertStatus)[keyof typeof AlertStatus];
export const ALERT_STATUSES: readonly AlertStatus[] = Object.values(AlertStatus);

export interface MitreMapping {
  techniqueId: string;
  techniqueName: string;
  tactics: Array<{ id: string; name: string }>;
}

/** An alert as stored and served: the detector's candidate plus identity, lifecycle and clocks. */
export interface Alert extends Omit<AlertCandidate, 'nodeKeys' | 'path' | 'processKey'> {
  /** Null only for an alert stored before paths were recorded, until a re-run derives it again. */
  path: AlertPath | null;
  /** The suppression holding the alert back, while one does. */
  suppression: SuppressionRecord | null;
  id: string;
  status: AlertStatus;
  severity: string;
  mitre: MitreMapping[];
  revision: number;
  nodeKeys: string[];
  createdAt: string;
  updatedAt: string;
}

export const ADWS_RULE_MITRE: readonly MitreMapping[] = [
  {
    techniqueId: 'T1055.002',
    techniqueName: 'Process Injection: Portable Executable Injection',
    tactics: [
      { id: 'TA0004', name: 'Privilege Escalation' },
      { id: 'TA0005', name: 'Defense Evasion' },
    ],
  },
  {
    techniqueId: 'T1087.002',
    techniqueName: 'Account Discovery: Domain Account',
    tactics: [{ id: 'TA0007', name: 'Discovery' }],
  },
  {
    techniqueId: 'T1119',
    techniqueName: 'Automated Collection',
    tactics: [{ id: 'TA0009', name: 'Collection' }],
  },
];

export const ADWS_RULE_SEVERITY = 'high';
