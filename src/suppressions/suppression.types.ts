import { canonicalDeviceId } from '../vocabulary/graph.vocabulary.js';

/** What a suppression holds back: every alert on a device, on a target image name, or with an injector name. */
export const SUPPRESSION_ENTITY_TYPES = ['device', 'targetFileName', 'injectorFileName'] as const;
export type SuppressionEntityType = (typeof SUPPRESSION_ENTITY_TYPES)[number];

export interface Suppression {
  id: string;
  entityType: SuppressionEntityType;
  /** A device id as stored (host ids canonical), or a lower-cased image name. */
  entityValue: string;
  reason: string;
  createdAt: string;
  expiresAt: string;
  liftedAt: string | null;
}

/** What an alert records of the suppression that holds it back. */
export interface SuppressionRecord {
  id: string;
  entityType: SuppressionEntityType;
  entityValue: string;
  expiresAt: string;
}

/** The fields of an alert candidate a suppression can match. */
export interface SuppressibleAlert {
  deviceId: string;
  fileName: string;
  injectors: readonly { fileName: string }[];
}

/** The form a value is stored and compared in: device ids as canonicalDeviceId, image names lower-cased. */
export function normalisedEntityValue(entityType: SuppressionEntityType, value: string): string {
  return entityType === 'device' ? canonicalDeviceId(value.trim()) : value.trim().toLowerCase();
}

/** The first suppression (oldest first, as given) in force that covers the alert, or null. */
export function suppressionFor(alert: SuppressibleAlert, active: readonly Suppression[]): SuppressionRecord | null {
  const found = active.find((s) => covers(s, alert));
  if (!found) return null;

  return { id: found.id, entityType: found.entityType, entityValue: found.entityValue, expiresAt: found.expiresAt };
}

function covers(suppression: Suppression, alert: SuppressibleAlert): boolean {
  switch (suppression.entityType) {
    case 'device':
      return alert.deviceId.toLowerCase() === suppression.entityValue.toLowerCase();
    case 'targetFileName':
      return alert.fileName.toLowerCase() === suppression.entityValue;
    case 'injectorFileName':
      return alert.injectors.some((i) => i.fileName.toLowerCase() === suppression.entityValue);
  }
}
