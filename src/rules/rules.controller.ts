import { Body, Controller, Get, HttpCode, Inject, Param, Post, Put } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';

import { DetectionService } from '../detection/detection.service.js';
import { AdwsRuleSettingsDto, RerunResultDto, RuleDto } from './rule.dto.js';
import { RuleService } from './rule.service.js';
import { RequireScope, Scope } from '../auth/scope.decorator.js';

@ApiTags('rules')
@RequireScope(Scope.Read)
@Controller('api/v1/rules')
export class RulesController {
  constructor(
    @Inject(RuleService) private readonly rules: RuleService,
    @Inject(DetectionService) private readonly detection: DetectionService,
  ) {}

  @Get(':ruleId')
  @ApiOperation({ summary: 'A rule with its current and default settings' })
  @ApiOkResponse({ type: RuleDto })
  @ApiNotFoundResponse({ description: 'No rule has this id' })
  get(@Param('ruleId') ruleId: string): Promise<RuleDto> {
    return this.rules.getRule(ruleId);
  }

  @Put(':ruleId')
  @RequireScope(Scope.Admin)
  @ApiOperation({
    summary: 'Replace the settings of a rule (applies to detections from now on; POST rerun for stored events)',
  })
  @ApiOkResponse({ type: RuleDto })
  update(@Param('ruleId') ruleId: string, @Body() settings: AdwsRuleSettingsDto): Promise<RuleDto> {
    return this.rules.updateSettings(ruleId, settings, new Date().toISOString());
  }

  @Post(':ruleId/rerun')
  @RequireScope(Scope.Admin)
  @HttpCode(200)
  @ApiOperation({ summary: 'Re-evaluate all stored events under the current settings' })
  @ApiOkResponse({ type: RerunResultDto })
  rerun(@Param('ruleId') ruleId: string): Promise<RerunResultDto> {
    return this.detection.rerun(ruleId);
  }
}
