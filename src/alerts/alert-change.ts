import type { Queryable } from '../database/database.js';
import type { Alert } from './alert.model.js';

/** The actor recorded for the engine's own changes. */
export const DETECTION_ACTOR = 'detection';

/** What kind of change an alert went through; webhooks filter on these. */
export const AlertChangeType = {
  /** The alert was derived for the first time. */
  Created: 'created',
  /** Its content changed (new evidence, a refined identity) or an analyst changed classification/assignee/comment. */
  Updated: 'updated',
  /**
   * Its status changed: triage (new, in_progress, resolved, false_positive) or the engine's (retracted, suppressed),
   * or its triage status changed under a status the engine holds.
   */
  Status: 'status',
} as const;
export type AlertChangeType = (typeof AlertChangeType)[keyof typeof AlertChangeType];
export const ALERT_CHANGE_TYPES: readonly AlertChangeType[] = Object.values(AlertChangeType);

/** One field's value before and after a change. */
export interface FieldChange {
  from: unknown;
  to: unknown;
}

/** One change of one alert as the change feed and the audit trail record it. */
export interface ChangeRecord {
  type: AlertChangeType;
  alertId: string;
  deviceId: string;
  revision: number;
  changedAt: string;
  /** The API key name of an analyst change, or `detection` for the engine. */
  actor: string;
  /** The API key id of an analyst change; null for the engine's and when auth is off. */
  actorKeyId: string | null;
  /** The fields that changed (status, triageStatus, classification, assignedTo); empty for content changes. */
  changes: Record<string, FieldChange>;
  comment: string | null;
}

/** One committed change of one alert, as webhooks see it: the record, its sequence number and the alert after it. */
export interface AlertChangeEvent extends ChangeRecord {
  /** The change feed's sequence number of this change (monotonic across all alerts). */
  sequence: number;
  alert: Alert;
}

/**
 * Called inside the transaction that writes an alert change, so what it writes (webhook deliveries) commits or
 * rolls back with the change itself.
 */
export interface AlertChangeListener {
  onAlertChange(tx: Queryable, change: AlertChangeEvent): Promise<void>;
}

/** Nest token under which the listener of alert changes is provided. */
export const ALERT_CHANGE_LISTENER = Symbol('ALERT_CHANGE_LISTENER');
