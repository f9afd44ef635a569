import { randomBytes, randomUUID } from 'node:crypto';

import { Inject, Injectable } from '@nestjs/common';

import { ALERT_CHANGE_TYPES, type AlertChangeType } from '../alerts/alert-change.js';
import { UUID_PATTERN } from '../alerts/alert-id.js';
import { ConflictError, InvalidInputError, NotFoundError } from '../common/domain.errors.js';
import { JsonLogger } from '../common/json.logger.js';
import { WebhookRepository } from './webhook.repository.js';
import {
  DeliveryState,
  type CreatedWebhook,
  type DeliveryPage,
  type DeliveryQuery,
  type Webhook,
  type WebhookDelivery,
  type WebhookPatch,
  type WebhookRecord,
} from './webhook.types.js';

export const MIN_SECRET_LENGTH = 16;
export const MAX_SECRET_LENGTH = 256;
export const MAX_NAME_LENGTH = 200;
export const MAX_URL_LENGTH = 2048;

/** Prefix of generated secrets, so secret scanners and people can tell what one is. */
const GENERATED_SECRET_PREFIX = 'whsec_';

export interface NewWebhook {
  name: string;
  url: string;
  /** Omitted: one is generated (256 random bits) and returned once. */
  secret?: string;
  /** Omitted: every change type. */
  events?: readonly string[];
}

/**
 * Webhook registrations and their deliveries. A webhook's secret is returned by `create` only; every other reply
 * leaves it out. Deactivating a webhook stops new deliveries and holds its pending ones until it is active again;
 * deleting it drops its deliveries.
 */
@Injectable()
export class WebhookService {
  private readonly logger = JsonLogger.for(WebhookService.name);

  constructor(@Inject(WebhookRepository) private readonly webhooks: WebhookRepository) {}

  async create(input: NewWebhook, actor: string, now: Date): Promise<CreatedWebhook> {
    const record: WebhookRecord = {
      id: randomUUID(),
      name: checkedName(input.name),
      url: checkedUrl(input.url),
      secret: input.secret === undefined ? generatedSecret() : checkedSecret(input.secret),
      events: checkedEvents(input.events ?? ALERT_CHANGE_TYPES),
      active: true,
      createdAt: now.toISOString(),
      createdBy: actor,
      updatedAt: now.toISOString(),
    };

    const stored = await this.webhooks.insert(record);
    const webhook = withoutSecret(stored);
    this.logger.info('webhook created', { ...webhook });

    return { ...webhook, secret: stored.secret };
  }

  async list(): Promise<Webhook[]> {
    return (await this.webhooks.list()).map(withoutSecret);
  }

  async get(id: string): Promise<Webhook> {
    return withoutSecret(await this.existing(id));
  }

  async update(id: string, patch: WebhookPatch, actor: string, now: Date): Promise<Webhook> {
    const checked: WebhookPatch = {
      name: patch.name === undefined ? undefined : checkedName(patch.name),
      url: patch.url === undefined ? undefined : checkedUrl(patch.url),
      events: patch.events === undefined ? undefined : checkedEvents(patch.events),
      active: patch.active,
    };
    await this.existing(id);

    const stored = await this.webhooks.update(id, checked, now.toISOString());
    if (!stored) throw new NotFoundError(`webhook ${id} does not exist`, { field: 'id' });

    this.logger.info('webhook updated', { id, actor, ...checked });
    return withoutSecret(stored);
  }

  async delete(id: string, actor: string): Promise<void> {
    const deleted = UUID_PATTERN.test(id) && (await this.webhooks.delete(id));
    if (!deleted) throw new NotFoundError(`webhook ${id} does not exist`, { field: 'id' });

    this.logger.info('webhook deleted', { id, actor });
  }

  /** One webhook's deliveries in change order (oldest first), after the sequence number `after`. */
  async deliveries(id: string, query: DeliveryQuery): Promise<DeliveryPage> {
    await this.existing(id);

    const rows = await this.webhooks.deliveries(id, query.after, query.state ?? null, query.limit + 1);
    const items = rows.slice(0, query.limit);
    const more = rows.length > query.limit;

    return { items, nextAfter: more ? items.at(-1)!.sequence : null };
  }

  /**
   * Puts a failed delivery back in the queue, due now, with a fresh attempt budget; it is sent again with the same
   * id and body. A pending one is already queued and is returned as it is; a delivered one cannot be sent again
   * (receivers would drop it as a duplicate of the id they already have).
   */
  async redeliver(id: string, deliveryId: string, actor: string, now: Date): Promise<WebhookDelivery> {
    await this.existing(id);
    const delivery = await this.existingDelivery(id, deliveryId);
    if (delivery.state === DeliveryState.Pending) return delivery;
    if (delivery.state === DeliveryState.Delivered) {
      throw new ConflictError(`delivery ${deliveryId} was delivered; only a failed delivery can be redelivered`, {
        field: 'deliveryId',
        state: delivery.state,
      });
    }

    const requeued = await this.webhooks.requeueFailed(id, deliveryId, now.toISOString());
    this.logger.info('webhook delivery requeued', { webhookId: id, deliveryId, actor });

    return requeued ?? this.existingDelivery(id, deliveryId);
  }

  private async existing(id: string): Promise<WebhookRecord> {
    const found = UUID_PATTERN.test(id) ? await this.webhooks.get(id) : null;
    if (!found) throw new NotFoundError(`webhook ${id} does not exist`, { field: 'id' });

    return found;
  }

  private async existingDelivery(id: string, deliveryId: string): Promise<WebhookDelivery> {
    const found = UUID_PATTERN.test(deliveryId) ? await this.webhooks.delivery(id, deliveryId) : null;
    if (!found)
      throw new NotFoundError(`delivery ${deliveryId} of webhook ${id} does not exist`, { field: 'deliveryId' });

    return found;
  }
}

function withoutSecret(record: WebhookRecord): Webhook {
  const { secret: _secret, ...webhook } = record;

  return webhook;
}

function checkedName(name: string): string {
  const trimmed = name.trim();
  if (trimmed === '') throw new InvalidInputError('name must not be blank', { field: 'name' });
  if (trimmed.length > MAX_NAME_LENGTH) {
    throw new InvalidInputError(`name must be at most ${MAX_NAME_LENGTH} characters`, { field: 'name' });
  }

  return trimmed;
}

/** An absolute http(s) URL without user:password (it would be shown in every listing; the secret signs instead). */
export function checkedUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url.trim());
  } catch {
    throw new InvalidInputError('url is not an absolute URL', { field: 'url', value: url });
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new InvalidInputError('url must be http or https', { field: 'url', value: url });
  }
  if (parsed.username !== '' || parsed.password !== '') {
    throw new InvalidInputError('url must not carry credentials; deliveries are signed with the secret instead', {
      field: 'url',
    });
  }
  if (parsed.href.length > MAX_URL_LENGTH) {
    throw new InvalidInputError(`url must be at most ${MAX_URL_LENGTH} characters`, { field: 'url' });
  }

  return parsed.href;
}

function checkedSecret(secret: string): string {
  if (secret.length < MIN_SECRET_LENGTH || secret.length > MAX_SECRET_LENGTH) {
    throw new InvalidInputError(`secret must be ${MIN_SECRET_LENGTH} to ${MAX_SECRET_LENGTH} characters`, {
      field: 'secret',
    });
  }

  return secret;
}

function generatedSecret(): string {
  return `${GENERATED_SECRET_PREFIX}${randomBytes(32).toString('base64url')}`;
}

/** A non-empty subset of the change types, without repeats, in their canonical order. */
export function checkedEvents(events: readonly string[]): AlertChangeType[] {
  const unknown = events.filter((e) => !(ALERT_CHANGE_TYPES as readonly string[]).includes(e));
  if (unknown.length > 0) {
    const allowed = ALERT_CHANGE_TYPES.join(', ');
    throw new InvalidInputError(`events must be some of ${allowed}`, { field: 'events', unknown });
  }
  if (events.length === 0)
    throw new InvalidInputError('events must name at least one change type', { field: 'events' });

  return ALERT_CHANGE_TYPES.filter((type) => events.includes(type));
}
