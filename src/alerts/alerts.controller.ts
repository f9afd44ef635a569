import { Body, Controller, Get, Headers, Inject, Param, Patch, Query, Res } from '@nestjs/common';
import {
  ApiConflictResponse,
  ApiExtraModels,
  ApiHeader,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiPreconditionFailedResponse,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { Response } from 'express';

import { CurrentPrincipal, type Principal } from '../auth/principal.js';
import { RequireScope, Scope } from '../auth/scope.decorator.js';
import { etagOf } from './alert-etag.js';

import { AlertEvidenceService } from './alert-evidence.service.js';
import {
  AlertChangesDto,
  AlertChangesQueryDto,
  AlertDto,
  AlertEvidenceDto,
  AlertHistoryDto,
  AlertHistoryQueryDto,
  AlertPageDto,
  AlertQueryDto,
  AlertTriageDto,
  FieldChangeDto,
} from './alert.dto.js';
import { AlertService } from './alert.service.js';

const DEFAULT_PAGE_SIZE = 100;

@ApiTags('alerts')
@ApiExtraModels(FieldChangeDto)
@RequireScope(Scope.Read)
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
  @ApiConflictResponse({ description: '`after` is past the newest change (details give newestSequence)' })
  changes(@Query() query: AlertChangesQueryDto): Promise<AlertChangesDto> {
    return this.alerts.changes(query.after ?? 0, query.limit ?? DEFAULT_PAGE_SIZE);
  }

  @Get(':id')
  @ApiOperation({ summary: 'One alert, with its revision as ETag' })
  @ApiOkResponse({ type: AlertDto, headers: { ETag: { description: 'The revision, quoted; send it as If-Match' } } })
  @ApiNotFoundResponse({ description: 'No alert has this id' })
  async get(@Param('id') id: string, @Res({ passthrough: true }) res: Response): Promise<AlertDto> {
    const alert = await this.alerts.get(id);
    res.setHeader('ETag', etagOf(alert.revision));

    return alert;
  }

  @Patch(':id')
  @RequireScope(Scope.Triage)
  @ApiOperation({
    summary: 'Triage an alert: status, classification, assignee, comment',
    description:
      'Only the fields sent change (null clears classification or assignedTo). Needs If-Match with the ETag from ' +
      'GET (or *): a playbook that read an older revision gets 412 instead of overwriting a newer change. Every ' +
      'change is kept in the history under the calling key name; a request that changes nothing and has no ' +
      'comment writes nothing. A retracted alert keeps its status (409 if a new one is sent).',
  })
  @ApiHeader({ name: 'If-Match', required: true, description: 'The ETag of the alert as read, or *' })
  @ApiOkResponse({ type: AlertDto, headers: { ETag: { description: 'The new revision, quoted' } } })
  @ApiNotFoundResponse({ description: 'No alert has this id' })
  @ApiConflictResponse({ description: 'The alert is retracted and the request sets a status' })
  @ApiPreconditionFailedResponse({ description: 'If-Match names a revision that is no longer current' })
  @ApiResponse({ status: 428, description: 'No If-Match header' })
  async triage(
    @Param('id') id: string,
    @Body() body: AlertTriageDto,
    @Headers('if-match') ifMatch: string | undefined,
    @CurrentPrincipal() principal: Principal,
    @Res({ passthrough: true }) res: Response,
  ): Promise<AlertDto> {
    const alert = await this.alerts.triage(id, body, ifMatch, { name: principal.name, keyId: principal.keyId });
    res.setHeader('ETag', etagOf(alert.revision));

    return alert;
  }

  @Get(':id/history')
  @ApiOperation({
    summary: "An alert's audit trail: every change, who made it (API key name or detection) and when",
  })
  @ApiOkResponse({ type: AlertHistoryDto })
  @ApiNotFoundResponse({ description: 'No alert has this id' })
  history(@Param('id') id: string, @Query() query: AlertHistoryQueryDto): Promise<AlertHistoryDto> {
    return this.alerts.history(id, query.after ?? 0, query.limit ?? DEFAULT_PAGE_SIZE);
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
