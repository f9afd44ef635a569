import { createHmac } from 'node:crypto';

/** The prefix of the signature header's value, naming the algorithm so it can change without breaking receivers. */
const SIGNATURE_PREFIX = 'sha256=';

/**
 * The `X-Webhook-Signature` value of one attempt: `sha256=` and the hex HMAC-SHA256, keyed with the webhook's
 * secret, of `<timestamp>.<body>`. The timestamp is inside the MAC so a captured request cannot be replayed later
 * with a fresh timestamp header. The README shows how a receiver checks it.
 */
export function signWebhook(secret: string, timestamp: number, body: string): string {
  const mac = createHmac('sha256', secret).update(`${timestamp}.${body}`, 'utf8').digest('hex');

  return `${SIGNATURE_PREFIX}${mac}`;
}
