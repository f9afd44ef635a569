import type { AlertChangeType } from '../alerts/alert-change.js';

/** Where a delivery stands: waiting (first try or a retry), accepted by the receiver, or given up on. */
export const DeliveryState = {
  Pending: 'pending',
  Delivered: 'delivered',
  Failed: 'failed',
} as const;
export type DeliveryState = (typeof DeliveryState)[keyof typeof DeliveryState];
export const DELIVERY_STATES: readonly DeliveryState[] = Object.values(DeliveryState);

/** A registered endpoint as the API serves it: never with its secret (see CreatedWebhook). */
export interface Webhook {
  id: string;
  name: string;
  url: string;
  events: AlertChangeType[];
  active: boolean;
  createdAt: string;
  createdBy: string;
  updatedAt: string;
}

/** A webhook as stored, secret included; for the repository and the dispatcher only. */
export interface WebhookRecord extends Webhook {
  secret: string;
}

/** The reply to the request that creates a webhook, the only time its secret leaves the service: the record. */
export type CreatedWebhook = WebhookRecord;

/** What PATCH may change. */
export interface WebhookPatch {
  name?: string;
  url?: string;
  events?: AlertChangeType[];
  active?: boolean;
}

/** One delivery as the API lists it (without its body, which can be large). */
export interface WebhookDelivery {
  id: string;
  webhookId: string;
  event: AlertChangeType;
  alertId: string;
  sequence: number;
  state: DeliveryState;
  attempts: number;
  nextAttemptAt: string | null;
  lastAttemptAt: string | null;
  lastStatus: number | null;
  lastError: string | null;
  createdAt: string;
  deliveredAt: string | null;
}

export interface DeliveryQuery {
  state?: DeliveryState;
  /** The sequence number of the last delivery already seen (0 for the beginning). */
  after: number;
  limit: number;
}

export interface DeliveryPage {
  items: WebhookDelivery[];
  /** Pass back as `after` for the next page; null when this page is the last. */
  nextAfter: number | null;
}

/** A delivery the dispatcher has leased: what it needs to send it. */
export interface ClaimedDelivery {
  id: string;
  webhookId: string;
  event: AlertChangeType;
  body: string;
  attempts: number;
  url: string;
  secret: string;
}

/** The outcome of one attempt, as recorded on the delivery. */
export interface AttemptResult {
  deliveryId: string;
  /** The attempt count the delivery had when it was claimed; the record is skipped if it moved on meanwhile. */
  attemptsBefore: number;
  at: string;
  status: number | null;
  error: string | null;
  /** `delivered` (a 2xx), `pending` (to be retried at nextAttemptAt) or `failed` (no attempts left). */
  state: DeliveryState;
  nextAttemptAt: string | null;
}
