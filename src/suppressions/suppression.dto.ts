import { ApiProperty } from '@nestjs/swagger';

import { EnumField, IntField, TextField } from '../common/api-field.decorators.js';
import { SUPPRESSION_ENTITY_TYPES, type SuppressionEntityType } from './suppression.types.js';

export class CreateSuppressionDto {
  @EnumField({
    description: 'What to hold back: alerts on a device, on a target image name, or with an injector image name',
    values: SUPPRESSION_ENTITY_TYPES,
    example: 'targetFileName',
  })
  entityType: SuppressionEntityType;

  @TextField({
    description: 'The device id (host:<name> for a Sysmon host) or the image name, compared without case',
    minLength: 1,
    maxLength: 260,
    example: 'searchprotocolhost.exe',
  })
  value: string;

  @IntField({ description: 'How long it is in force, from now', min: 1, max: 525_600, example: 1440 })
  durationMinutes: number;

  @TextField({ description: 'Why (kept with the suppression)', minLength: 1, maxLength: 500 })
  reason: string;
}

export class SuppressionDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ enum: SUPPRESSION_ENTITY_TYPES }) entityType: string;
  @ApiProperty({ description: 'Device id as stored, or the lower-cased image name' }) entityValue: string;
  @ApiProperty() reason: string;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time' }) expiresAt: string;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) liftedAt: string | null;
}

export class SuppressionRecordDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ enum: SUPPRESSION_ENTITY_TYPES }) entityType: string;
  @ApiProperty() entityValue: string;
  @ApiProperty({ format: 'date-time' }) expiresAt: string;
}
