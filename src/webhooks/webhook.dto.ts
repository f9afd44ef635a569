import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsIn, IsOptional } from 'class-validator';

import { ALERT_CHANGE_TYPES, type AlertChangeType } from '../alerts/alert-change.js';
import { BoolField, EmptyAsAbsent, EnumField, IntField, TextField } from '../common/api-field.decorators.js';
import { DELIVERY_STATES, type DeliveryState } from './webhook.types.js';
import { MAX_NAME_LENGTH, MAX_SECRET_LENGTH, MAX_URL_LENGTH, MIN_SECRET_LENGTH } from './webhook.service.js';

function EventsField(description: string): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({
      description,
      type: 'array',
      items: { type: 'string', enum: [...ALERT_CHANGE_TYPES] },
      minItems: 1,
      maxItems: ALERT_CHANGE_TYPES.length,
      example: ['created', 'status'],
    }),
    IsOptional(),
    IsArray(),
    ArrayMinSize(1),
    ArrayMaxSize(ALERT_CHANGE_TYPES.length),
    IsIn(ALERT_CHANGE_TYPES, {
      each: true,
      message: `each value in events must be one of ${ALERT_CHANGE_TYPES.join(', ')}`,
    }),
  );
}

const NAME = { description: 'What the endpoint is (for people)', minLength: 1, maxLength: MAX_NAME_LENGTH };
const URL_FIELD = {
  description: 'Where deliveries are POSTed: an absolute http or https URL, without user:password',
  minLength: 1,
  maxLength: MAX_URL_LENGTH,
  example: 'https://soar.example.net/hooks/adws',
};

export class CreateWebhookDto {
  @TextField({ ...NAME, example: 'xsoar' })
  name: string;

  @TextField(URL_FIELD)
  url: string;

  @TextField({
    description:
      `Key of the HMAC-SHA256 signature of every delivery, ${MIN_SECRET_LENGTH} to ${MAX_SECRET_LENGTH} ` +
      'characters. Absent: one is generated. Either way it is returned in this reply only.',
    minLength: MIN_SECRET_LENGTH,
    maxLength: MAX_SECRET_LENGTH,
    optional: true,
  })
  secret?: string;

  @EventsField('Which alert changes to deliver (absent: all of created, updated, status)')
  events?: AlertChangeType[];
}

export class UpdateWebhookDto {
  @TextField({ ...NAME, optional: true })
  name?: string;

  @TextField({ ...URL_FIELD, optional: true })
  url?: string;

  @EventsField('Which alert changes to deliver from now on')
  events?: AlertChangeType[];

  @BoolField({
    description: 'false: no new deliveries, and pending ones wait; true again: they are sent',
    optional: true,
  })
  active?: boolean;
}

export class DeliveryQueryDto {
  @EmptyAsAbsent()
  @EnumField({ description: 'Only deliveries in this state', values: DELIVERY_STATES, optional: true })
  state?: DeliveryState;

  @EmptyAsAbsent()
  @IntField({
    description: 'nextAfter of the previous page: the change sequence number of the last delivery seen (0 or absent)',
    min: 0,
    max: Number.MAX_SAFE_INTEGER,
    optional: true,
  })
  after?: number;

  @EmptyAsAbsent()
  @IntField({ description: 'Page size (default 100)', min: 1, max: 1000, optional: true })
  limit?: number;
}

export class WebhookDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() name: string;
  @ApiProperty() url: string;
  @ApiProperty({ type: 'array', items: { type: 'string', enum: [...ALERT_CHANGE_TYPES] } }) events: string[];
  @ApiProperty({ description: 'false: paused (no new deliveries; pending ones wait)' }) active: boolean;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ description: 'The key name that created it' }) createdBy: string;
  @ApiProperty({ format: 'date-time' }) updatedAt: string;
}

export class CreatedWebhookDto extends WebhookDto {
  @ApiProperty({ description: 'The signing secret: shown only in this reply, never by any other request' })
  secret: string;
}

export class WebhookDeliveryDto {
  @ApiProperty({ format: 'uuid', description: 'X-Webhook-Delivery: the same on every attempt; dedupe on it' })
  id: string;
  @ApiProperty({ format: 'uuid' }) webhookId: string;
  @ApiProperty({ enum: ALERT_CHANGE_TYPES }) event: string;
  @ApiProperty({ format: 'uuid' }) alertId: string;
  @ApiProperty({ description: 'The change feed sequence number of the change delivered' }) sequence: number;
  @ApiProperty({ enum: DELIVERY_STATES }) state: string;
  @ApiProperty({ description: 'Attempts made (since the last redeliver)' }) attempts: number;
  @ApiProperty({ format: 'date-time', nullable: true, type: String, description: 'When it is due (pending only)' })
  nextAttemptAt: string | null;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) lastAttemptAt: string | null;
  @ApiProperty({ nullable: true, type: Number, description: 'HTTP status of the last attempt (null: no reply)' })
  lastStatus: number | null;
  @ApiProperty({ nullable: true, type: String, example: 'HTTP 503' }) lastError: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) deliveredAt: string | null;
}

export class DeliveryPageDto {
  @ApiProperty({ type: [WebhookDeliveryDto], description: 'Oldest change first' }) items: WebhookDeliveryDto[];
  @ApiProperty({ nullable: true, type: Number, description: 'Pass as after for the next page; null: last page' })
  nextAfter: number | null;
}
