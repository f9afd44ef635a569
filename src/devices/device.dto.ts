import { ApiProperty } from '@nestjs/swagger';

import { EmptyAsAbsent, IntField, TextField } from '../common/api-field.decorators.js';
import { MAX_DEVICE_ID_LENGTH } from '../vocabulary/graph.vocabulary.js';

export class DeviceQueryDto {
  @EmptyAsAbsent()
  @TextField({ description: 'nextAfter of the previous page', maxLength: MAX_DEVICE_ID_LENGTH, optional: true })
  after?: string;

  @EmptyAsAbsent()
  @IntField({ description: 'Page size (default 100)', min: 1, max: 1000, optional: true })
  limit?: number;
}

export class DeviceSummaryDto {
  @ApiProperty() deviceId: string;
  @ApiProperty({ enum: ['defender', 'sysmon'] }) source: string;
  @ApiProperty({ type: [String], description: 'Lower-cased DeviceNames reported, or the Sysmon host name' })
  names: string[];
  @ApiProperty({ format: 'date-time', description: 'Earliest stored event' }) firstSeen: string;
  @ApiProperty({ format: 'date-time', description: 'Latest stored event' }) lastSeen: string;
  @ApiProperty({
    description: 'Stored events per table',
    type: 'object',
    additionalProperties: { type: 'integer' },
    example: { DeviceEvents: 12, DeviceNetworkEvents: 40 },
  })
  events: Record<string, number>;
  @ApiProperty({
    description: 'Alerts on the device per status',
    type: 'object',
    additionalProperties: { type: 'integer' },
    example: { new: 1, retracted: 0, suppressed: 0 },
  })
  alerts: Record<string, number>;
}

export class DevicePageDto {
  @ApiProperty({ type: [DeviceSummaryDto], description: 'Ordered by device id' }) items: DeviceSummaryDto[];
  @ApiProperty({ nullable: true, type: String, description: 'Pass as after for the next page; null at the end' })
  nextAfter: string | null;
}
