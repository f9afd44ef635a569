import { Controller, Get, Inject, Param, Query } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';

import { AlertEvidenceService } from './alert-evidence.service.js';
import {
  AlertChangesDto,
  AlertChangesQueryDto,
  AlertDto,
  AlertEvidenceDto,
  AlertPageDto,
  AlertQueryDto,
} from './alert.dto.js';
import { AlertService } from './alert.service.js';

const DEFAULT_PAGE_SIZE = 100;

@ApiTags('alerts')
@Controller('api/v1/alerts')
export class AlertsController {
  constructor(
    @Inject(AlertService) private readonly alerts: AlertService,
    @Inject(AlertEvidenceService) private readonly evidenceService: AlertEvidenceService,
  ) {}

  @Get()
  @ApiOperation({ summary: 'List alerts, oldest first, with keyset pagination' })
  @ApiOkResponse({ type: AlertPageDto })
  list(@Query() query: AlertQueryDto): Promise<AlertPageDto> {
    return this.alerts.list({ ...query, limit: query.limit ?? DEFAULT_PAGE_SIZE });
  }

  @Get('changes')
  @ApiOperation({
    summary: 'Alerts created or changed after a sequence number (the change feed)',
    description:
      'Every alert write (created, new evidence, retracted, suppressed or released) takes the next number of one ' +
      'global, monotonic sequence. Keep `lastSequence` and pass it back as `after`: each change is seen once, in ' +
      'order, however late its events arrived. An alert changed several times since `after` comes once, as it is now.',
  })
  @ApiOkResponse({ type: AlertChangesDto })
  changes(@Query() query: AlertChangesQueryDto): Promise<AlertChangesDto> {
    return this.alerts.changes(query.after ?? 0, query.limit ?? DEFAULT_PAGE_SIZE);
  }

  @Get(':id')
  @ApiOperation({ summary: 'One alert' })
  @ApiOkResponse({ type: AlertDto })
  @ApiNotFoundResponse({ description: 'No alert has this id' })
  get(@Param('id') id: string): Promise<AlertDto> {
    return this.alerts.get(id);
  }

  @Get(':id/evidence')
  @ApiOperation({
    summary: 'The stored events behind an alert, as received',
    description:
      'Every event the alert cites (its evidence list, which its path edges also name), with the record as it was ' +
      'received: a Defender row or streaming envelope, a Sysmon JSON record, or {"xml": "<Event>...</Event>"}.',
  })
  @ApiOkResponse({ type: AlertEvidenceDto })
  @ApiNotFoundResponse({ description: 'No alert has this id' })
  evidence(@Param('id') id: string): Promise<AlertEvidenceDto> {
    return this.evidenceService.evidenceOf(id);
  }
}
