import { Controller, Get, HttpStatus, Inject, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';

import { PublicRoute } from '../auth/scope.decorator.js';
import { HealthService } from './health.service.js';

export class HealthDto {
  @ApiProperty({ enum: ['ok', 'degraded'] }) status: string;
  @ApiProperty({ enum: ['postgres', 'pglite'] }) database: string;
  @ApiProperty() databaseReachable: boolean;
  @ApiProperty({ description: 'Migrations recorded as applied' }) migrationsApplied: number;
  @ApiProperty({ type: [String], description: 'Migration files not applied yet' }) migrationsPending: string[];
}

@ApiTags('health')
@PublicRoute()
@Controller('api/v1/health')
export class HealthController {
  constructor(@Inject(HealthService) private readonly health: HealthService) {}

  @Get()
  @ApiOperation({ summary: 'Database reachable and migrations applied' })
  @ApiOkResponse({ type: HealthDto })
  @ApiServiceUnavailableResponse({ type: HealthDto })
  async get(@Res({ passthrough: true }) res: Response): Promise<HealthDto> {
    const report = await this.health.check();
    if (report.status !== 'ok') res.status(HttpStatus.SERVICE_UNAVAILABLE);

    return report;
  }
}
