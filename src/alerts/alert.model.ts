import type { AlertCandidate, AlertPath } from '../detection/alert.types.js';
import type { SuppressionRecord } from '../suppressions/suppression.types.js';

export const AlertStatus = {
  /** Not looked at yet (every derived alert starts here). */
  New: 'new',
  /** Being worked on (set by an analyst or playbook). */
  InProgress: 'in_progress',
  /** Closed as handled. */
  Resolved: 'resolved',
  /** Closed as not malicious. */
  FalsePositive: 'false_positive',
  /** The evidence no longer satisfies the rule under the current settings (after a re-run). */
  Retracted: 'retracted',
  /** Derived, but held back by a suppression in force (recorded on the alert as `suppression`). */
  Suppressed: 'suppressed',
} as const;
export type AlertStatus = (typeof AlertStatus)[keyof typeof AlertStatus];
export const ALERT_STATUSES: readonly AlertStatus[] = Object.values(AlertStatus);

/** The statuses analysts set (PATCH); `retracted` and `suppressed` are the engine's. */
export const TRIAGE_STATUSES = [
  AlertStatus.New,
  AlertStatus.InProgress,
  AlertStatus.Resolved,
  AlertStatus.FalsePositive,
] as const;
export type TriageStatus = (typeof TRIAGE_STATUSES)[number];

/** Closed triage statuses: a suppression no longer changes what such an alert shows. */
export const CLOSED_TRIAGE_STATUSES: readonly TriageStatus[] = [AlertStatus.Resolved, AlertStatus.FalsePositive];

/** An analyst's verdict on what the alert was. */
export const ALERT_CLASSIFICATIONS = ['true_positive', 'benign_positive', 'false_positive', 'undetermined'] as const;
export type AlertClassification = (typeof ALERT_CLASSIFICATIONS)[number];

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
  /** The triage status, or `retracted` / `suppressed` when the engine withdrew or holds back the alert. */
  status: AlertStatus;
  /** What analysts last set; `status` shows it unless the alert is retracted, or suppressed while open. */
  triageStatus: TriageStatus;
  classification: AlertClassification | null;
  assignedTo: string | null;
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
