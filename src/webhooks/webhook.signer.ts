import { createHmac, timingSafeEqual } from 'node:crypto';

/** The prefix of the signature header's value, naming the algorithm so it can change without breaking receivers. */
export const SIGNATURE_PREFIX = 'sha256=';

/** How far a receiver following `verifyWebhookSignature` lets a timestamp lie from its own clock, by default. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

/**
 * The `X-Webhook-Signature` value of one attempt: `sha256=` and the hex HMAC-SHA256, keyed with the webhook's
 * secret, of `<timestamp>.<body>`. The timestamp is inside the MAC so a captured request cannot be replayed later
 * with a fresh timestamp header.
 */
export function signWebhook(secret: string, timestamp: number, body: string): string {
  const mac = createHmac('sha256', secret).update(`${timestamp}.${body}`, 'utf8').digest('hex');

  return `${SIGNATURE_PREFIX}${mac}`;
}

export interface VerifyInput {
  secret: string;
  /** The `X-Webhook-Timestamp` header as received. */
  timestamp: string | undefined;
  /** The raw body bytes as received (not a re-serialised parse of them). */
  body: string;
  /** The `X-Webhook-Signature` header as received. */
  signature: string | undefined;
  /** The receiver's clock, unix seconds. */
  nowSeconds: number;
  toleranceSeconds?: number;
}

/**
 * What a receiver does with a delivery: true when the signature matches and the timestamp is within the tolerance
 * of its clock (a stale one may be a replay). Compares in constant time. Used by the tests; documented for receivers.
 */
export function verifyWebhookSignature(input: VerifyInput): boolean {
  const timestamp = Number(input.timestamp);
  if (!input.timestamp || !/^\d+$/.test(input.timestamp) || !Number.isSafeInteger(timestamp)) return false;
  if (Math.abs(input.nowSeconds - timestamp) > (input.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS)) return false;

  const expected = Buffer.from(signWebhook(input.secret, timestamp, input.body), 'utf8');
  const given = Buffer.from(input.signature ?? '', 'utf8');

  return given.length === expected.length && timingSafeEqual(given, expected);
}
