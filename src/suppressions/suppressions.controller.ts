import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiQuery,
  ApiTags,
} from '@nestjs/swagger';

import { InvalidInputError } from '../common/domain.errors.js';
import { CreateSuppressionDto, SuppressionDto } from './suppression.dto.js';
import { SuppressionService } from './suppression.service.js';
import { RequireScope, Scope } from '../auth/scope.decorator.js';

@ApiTags('suppressions')
@RequireScope(Scope.Read)
@Controller('api/v1/suppressions')
export class SuppressionsController {
  constructor(@Inject(SuppressionService) private readonly suppressions: SuppressionService) {}

  @Post()
  @RequireScope(Scope.Triage)
  @ApiOperation({
    summary: 'Hold back alerts on a device, target image or injector image for a while',
    description:
      'Alerts the suppression covers are still derived and stored, with status `suppressed` and the suppression ' +
      'recorded on them; when it expires or is lifted they are `new` again (at once when lifted, at their next ' +
      'detection or re-run when expired). Changing an alert does not end a suppression.',
  })
  @ApiCreatedResponse({ type: SuppressionDto })
  create(@Body() body: CreateSuppressionDto): Promise<SuppressionDto> {
    return this.suppressions.create(body, new Date());
  }

  @Get()
  @ApiOperation({ summary: 'Suppressions, oldest first' })
  @ApiQuery({ name: 'active', required: false, type: Boolean, description: 'Only those in force now' })
  @ApiOkResponse({ type: [SuppressionDto] })
  list(@Query('active') active?: string): Promise<SuppressionDto[]> {
    return this.suppressions.list(parseActive(active), new Date());
  }

  @Delete(':id')
  @RequireScope(Scope.Triage)
  @HttpCode(200)
  @ApiOperation({ summary: 'Lift a suppression now (kept, with liftedAt)' })
  @ApiOkResponse({ type: SuppressionDto })
  @ApiNotFoundResponse({ description: 'No suppression has this id' })
  lift(@Param('id') id: string): Promise<SuppressionDto> {
    return this.suppressions.lift(id, new Date());
  }
}

function parseActive(value: string | undefined): boolean {
  if (value === undefined || value === '' || value === 'false') return false;
  if (value === 'true') return true;

  throw new InvalidInputError('active must be true or false', { field: 'active', value });
}
