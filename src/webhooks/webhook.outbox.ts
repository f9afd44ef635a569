import { Inject, Injectable } from '@nestjs/common';

import type { AlertChangeEvent, AlertChangeListener } from '../alerts/alert-change.js';
import { JsonLogger } from '../common/json.logger.js';
import type { Queryable } from '../database/database.js';
import { WebhookRepository } from './webhook.repository.js';

/**
 * The transactional outbox of webhooks. The alert service calls it inside the transaction of every alert change;
 * it writes one pending delivery per interested webhook on that same transaction, so a change that commits always
 * has its deliveries stored and one that rolls back leaves none. The dispatcher sends them later.
 * TODO: deliveries are kept forever (like the change feed); purge delivered and failed ones after a retention
 * period once the service has one.
 */
@Injectable()
export class WebhookOutbox implements AlertChangeListener {
  private readonly logger = JsonLogger.for(WebhookOutbox.name);

  constructor(@Inject(WebhookRepository) private readonly webhooks: WebhookRepository) {}

  async onAlertChange(tx: Queryable, change: AlertChangeEvent): Promise<void> {
    const enqueued = await this.webhooks.enqueue(tx, {
      type: change.type,
      alertId: change.alertId,
      sequence: change.sequence,
      body: deliveryBodyTail(change),
      at: new Date().toISOString(),
    });

    if (enqueued > 0) this.logger.trace('webhook deliveries enqueued', { sequence: change.sequence, enqueued });
  }
}

/**
 * The delivery body without its first two fields: `{"event":...,"alert":{...}}`. The repository puts
 * `deliveryId` and `webhookId` in front for each webhook, giving
 * `{deliveryId, webhookId, event, sequence, occurredAt, actor, actorKeyId, changes, comment, alert}`.
 */
export function deliveryBodyTail(change: AlertChangeEvent): string {
  return JSON.stringify({
    event: change.type,
    sequence: change.sequence,
    occurredAt: change.changedAt,
    actor: change.actor,
    actorKeyId: change.actorKeyId,
    changes: change.changes,
    comment: change.comment,
    alert: change.alert,
  });
}
