import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';

import { backoffMs, webhookHeaders } from '../../../src/webhooks/webhook.dispatcher.js';
import { signWebhook } from '../../../src/webhooks/webhook.signer.js';

const SECRET = 'a-secret-of-sixteen+';
const BODY = '{"deliveryId":"d","event":"created","text":"caf\u00e9 \u2713"}';

describe('webhook signatures', () => {
  it('is sha256= and the hex HMAC-SHA256 of "<timestamp>.<body>" under the secret (UTF-8)', () => {
    const expected = createHmac('sha256', SECRET)
      .update(Buffer.from(`1700000000.${BODY}`, 'utf8'))
      .digest('hex');

    expect(signWebhook(SECRET, 1700000000, BODY)).toBe(`sha256=${expected}`);
  });

  it('puts the signature of the attempt timestamp in the headers', () => {
    const delivery = {
      id: 'd-1',
      webhookId: 'w-1',
      event: 'status' as const,
      body: BODY,
      attempts: 2,
      url: 'http://x/',
      secret: SECRET,
    };
    const headers = webhookHeaders(delivery, 1700000042);

    expect(headers).toMatchObject({
      'Content-Type': 'application/json',
      'X-Webhook-Id': 'w-1',
      'X-Webhook-Delivery': 'd-1',
      'X-Webhook-Event': 'status',
      'X-Webhook-Timestamp': '1700000042',
      'X-Webhook-Signature': signWebhook(SECRET, 1700000042, BODY),
    });
  });
});

describe('retry backoff', () => {
  it('doubles from the base after each failed attempt and stops at the maximum', () => {
    const waits = [1, 2, 3, 4, 5, 6, 7, 8, 9].map((attempts) => backoffMs(attempts, 5000, 60 * 60 * 1000));

    expect(waits).toEqual([5000, 10_000, 20_000, 40_000, 80_000, 160_000, 320_000, 640_000, 1_280_000]);
    expect(backoffMs(12, 5000, 3_600_000)).toBe(3_600_000);
    expect(backoffMs(10_000, 5000, 3_600_000)).toBe(3_600_000);
  });
});
