import { Controller, Get, Inject, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';

import { DevicePageDto, DeviceQueryDto } from './device.dto.js';
import { DeviceService } from './device.service.js';
import { RequireScope, Scope } from '../auth/scope.decorator.js';

const DEFAULT_PAGE_SIZE = 100;

@ApiTags('devices')
@RequireScope(Scope.Read)
@Controller('api/v1/devices')
export class DevicesController {
  constructor(@Inject(DeviceService) private readonly devices: DeviceService) {}

  @Get()
  @ApiOperation({ summary: 'Devices with stored events: names, first and last event, event and alert counts' })
  @ApiOkResponse({ type: DevicePageDto })
  list(@Query() query: DeviceQueryDto): Promise<DevicePageDto> {
    return this.devices.list(query.after ?? null, query.limit ?? DEFAULT_PAGE_SIZE);
  }
}
