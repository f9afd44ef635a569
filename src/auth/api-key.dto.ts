import { applyDecorators } from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsIn } from 'class-validator';

import { IntField, IsoTimeField, TextField } from '../common/api-field.decorators.js';
import { SCOPES, type Scope } from './scope.decorator.js';

function ScopesField(): PropertyDecorator {
  return applyDecorators(
    ApiProperty({
      description:
        'What the key may do: ingest (post events), read (alerts, graphs, devices, rules), triage ' +
        '(change alerts, suppressions), admin (everything, incl. keys, rules and webhooks)',
      type: 'array',
      items: { type: 'string', enum: [...SCOPES] },
      minItems: 1,
      maxItems: SCOPES.length,
      example: ['read', 'triage'],
    }),
    IsArray(),
    ArrayMinSize(1),
    ArrayMaxSize(SCOPES.length),
    IsIn(SCOPES, { each: true, message: `each value in scopes must be one of ${SCOPES.join(', ')}` }),
  );
}

export class CreateApiKeyDto {
  @TextField({
    description: 'Who or what uses the key; recorded as the actor of its changes',
    minLength: 1,
    maxLength: 100,
    pattern: /^\S(.*\S)?$/,
    example: 'xsoar-playbooks',
  })
  name: string;

  @ScopesField()
  scopes: Scope[];

  @IntField({
    description: 'Requests per minute for this key (0: unlimited); absent uses the service default',
    min: 0,
    max: 1_000_000,
    optional: true,
  })
  rateLimitPerMinute?: number;

  @IsoTimeField({ description: 'When the key stops working (absent: never)', optional: true })
  expiresAt?: string;
}

export class ApiKeyDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() name: string;
  @ApiProperty({ description: 'The first characters of the key, to tell keys apart', example: 'adws_Xy3kq9Z' })
  prefix: string;
  @ApiProperty({ type: 'array', items: { type: 'string', enum: [...SCOPES] } }) scopes: string[];
  @ApiProperty({ nullable: true, type: Number, description: 'null: the service default' })
  rateLimitPerMinute: number | null;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ description: 'The key name that created it' }) createdBy: string;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) expiresAt: string | null;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) revokedAt: string | null;
  @ApiProperty({ format: 'date-time', nullable: true, type: String, description: 'To the minute' })
  lastUsedAt: string | null;
}

export class CreatedApiKeyDto extends ApiKeyDto {
  @ApiProperty({ description: 'The key itself: shown only in this reply, stored only as a hash' })
  key: string;
}
