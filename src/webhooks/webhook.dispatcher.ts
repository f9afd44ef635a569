import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';

import { JsonLogger } from '../common/json.logger.js';
import { APP_CONFIG, type AppConfig } from '../config/app.config.js';
import { WebhookRepository } from './webhook.repository.js';
import { signWebhook } from './webhook.signer.js';
import { DeliveryState, type AttemptResult, type ClaimedDelivery } from './webhook.types.js';

/** Deliveries claimed and sent (at the same time) per round; a full round is followed by another at once. */
export const DISPATCH_BATCH_SIZE = 20;

/**
 * A claimed delivery is leased for the request timeout plus this margin (for the result's write). A dispatcher that
 * dies mid-send leaves its deliveries due again when the lease ends: at-least-once, receivers dedupe on the id.
 */
const LEASE_MARGIN_MS = 30_000;

/** Longest error text kept on a delivery. */
const MAX_ERROR_LENGTH = 500;

export const USER_AGENT = 'adws-injection-graph-webhooks/0.1';

/**
 * The wait before the next attempt after `attempts` failed ones: base, 2 x base, 4 x base ... capped at max.
 * TODO: no jitter, so tests can assert the waits; deliveries that failed together during one receiver outage retry
 * together. Add a bounded random spread (config, 0 in tests) if receivers report bursts.
 */
export function backoffMs(attempts: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, attempts - 1));
}

/** The headers of one attempt; the timestamp (unix seconds) is this attempt's, and it is signed with the body. */
export function webhookHeaders(delivery: ClaimedDelivery, timestamp: number): Record<string, string> {
  return {
    'Content-Type': 'application/json',
    'User-Agent': USER_AGENT,
    'X-Webhook-Id': delivery.webhookId,
    'X-Webhook-Delivery': delivery.id,
    'X-Webhook-Event': delivery.event,
    'X-Webhook-Timestamp': String(timestamp),
    'X-Webhook-Signature': signWebhook(delivery.secret, timestamp, delivery.body),
  };
}

interface Sent {
  status: number | null;
  error: string | null;
}

/**
 * Sends the outbox: every `webhookPollMs` it leases a batch of due deliveries (FOR UPDATE SKIP LOCKED, so several
 * instances can share one database), POSTs them, and records each attempt. A 2xx is delivered; anything else, a
 * timeout or a refused connection is retried after an exponential backoff until `webhookMaxAttempts`, then failed.
 * Starts with the application and stops, waiting for the round in progress, before the database closes.
 *
 * TODO: a webhook may name any host this service can reach, internal addresses included; only admin keys can
 * register one, but an allowlist of receiver hosts would narrow what a stolen admin key can probe.
 */
@Injectable()
export class WebhookDispatcher implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = JsonLogger.for(WebhookDispatcher.name);
  private timer: NodeJS.Timeout | null = null;
  private round: Promise<void> | null = null;
  private running = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(WebhookRepository) private readonly webhooks: WebhookRepository,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.webhookDispatcher) this.start();
  }

  async onModuleDestroy(): Promise<void> {
    await this.stop();
  }

  start(): void {
    if (this.running) return;

    this.running = true;
    this.schedule(0);
    this.logger.info('webhook dispatcher started', { pollMs: this.config.webhookPollMs });
  }

  /** Stops polling and waits for the round in progress (its requests and their records) to end. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;

    await this.round;
  }

  /**
   * One batch: leases up to DISPATCH_BATCH_SIZE due deliveries, sends them all at once and records every outcome.
   * Returns how many it claimed. The loop calls it; tests may too.
   */
  async runOnce(): Promise<number> {
    const now = Date.now();
    const leaseUntil = new Date(now + this.config.webhookTimeoutMs + LEASE_MARGIN_MS).toISOString();
    const claimed = await this.webhooks.claimDue(new Date(now).toISOString(), leaseUntil, DISPATCH_BATCH_SIZE);

    await Promise.all(claimed.map((delivery) => this.deliver(delivery)));
    return claimed.length;
  }

  private schedule(delayMs: number): void {
    this.timer = setTimeout(() => {
      this.timer = null;
      this.round = this.poll().finally(() => {
        this.round = null;
        if (this.running) this.schedule(this.config.webhookPollMs);
      });
    }, delayMs);
    this.timer.unref();
  }

  /** Rounds until fewer than a batch were due. A failing database is logged and tried again at the next poll. */
  private async poll(): Promise<void> {
    try {
      let claimed = DISPATCH_BATCH_SIZE;
      while (this.running && claimed === DISPATCH_BATCH_SIZE) claimed = await this.runOnce();
    } catch (error) {
      this.logger.warning('webhook poll failed', { error });
    }
  }

  private async deliver(delivery: ClaimedDelivery): Promise<void> {
    const sent = await this.send(delivery);
    const result = this.resultOf(delivery, sent, new Date());

    try {
      const recorded = await this.webhooks.recordAttempt(result);
      if (recorded) this.logResult(delivery, result);
    } catch (error) {
      // The lease runs out and the delivery is sent again: at-least-once.
      this.logger.warning('webhook attempt not recorded', { deliveryId: delivery.id, error });
    }
  }

  private async send(delivery: ClaimedDelivery): Promise<Sent> {
    const timestamp = Math.floor(Date.now() / 1000);
    try {
      const response = await fetch(delivery.url, {
        method: 'POST',
        headers: webhookHeaders(delivery, timestamp),
        body: delivery.body,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.config.webhookTimeoutMs),
      });
      await response.body?.cancel().catch(() => undefined);

      const ok = response.status >= 200 && response.status < 300;
      return { status: response.status, error: ok ? null : `HTTP ${response.status}` };
    } catch (error) {
      return { status: null, error: describeFailure(error, this.config.webhookTimeoutMs) };
    }
  }

  private resultOf(delivery: ClaimedDelivery, sent: Sent, at: Date): AttemptResult {
    const attempts = delivery.attempts + 1;
    const base = { deliveryId: delivery.id, attemptsBefore: delivery.attempts, at: at.toISOString(), ...sent };
    if (sent.error === null) return { ...base, state: DeliveryState.Delivered, nextAttemptAt: null };
    if (attempts >= this.config.webhookMaxAttempts)
      return { ...base, state: DeliveryState.Failed, nextAttemptAt: null };

    const waitMs = backoffMs(attempts, this.config.webhookBackoffBaseMs, this.config.webhookBackoffMaxMs);
    return { ...base, state: DeliveryState.Pending, nextAttemptAt: new Date(at.getTime() + waitMs).toISOString() };
  }

  private logResult(delivery: ClaimedDelivery, result: AttemptResult): void {
    const fields = {
      deliveryId: delivery.id,
      webhookId: delivery.webhookId,
      attempt: delivery.attempts + 1,
      status: result.status,
      error: result.error,
      nextAttemptAt: result.nextAttemptAt,
    };
    if (result.state === DeliveryState.Delivered) this.logger.trace('webhook delivered', fields);
    else if (result.state === DeliveryState.Pending) this.logger.warning('webhook attempt failed', fields);
    else this.logger.failure('webhook delivery failed after its last attempt', fields);
  }
}

/** What went wrong with a request that got no HTTP status: a timeout, or the network error under fetch's own. */
function describeFailure(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && error.name === 'TimeoutError') return `no response within ${timeoutMs} ms`;

  const cause = error instanceof Error ? error.cause : undefined;
  const text = cause instanceof Error ? cause.message : error instanceof Error ? error.message : String(error);
  return text.slice(0, MAX_ERROR_LENGTH);
}
