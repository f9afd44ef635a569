import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post } from '@nestjs/common';
import {
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';

import { ApiKeyDto, CreateApiKeyDto, CreatedApiKeyDto } from './api-key.dto.js';
import { ApiKeyService } from './api-key.service.js';
import { CurrentPrincipal, type Principal } from './principal.js';
import { RequireScope, Scope } from './scope.decorator.js';

@ApiTags('api-keys')
@RequireScope(Scope.Admin)
@Controller('api/v1/api-keys')
export class ApiKeysController {
  constructor(@Inject(ApiKeyService) private readonly keys: ApiKeyService) {}

  @Post()
  @ApiOperation({
    summary: 'Create an API key',
    description:
      'The reply holds the key itself, once: only its SHA-256 is stored. Send it as Authorization: ' +
      'Bearer <key> or X-API-Key: <key>.',
  })
  @ApiCreatedResponse({ type: CreatedApiKeyDto })
  async create(@Body() body: CreateApiKeyDto, @CurrentPrincipal() principal: Principal): Promise<CreatedApiKeyDto> {
    const { apiKey, key } = await this.keys.create(body, principal.name);

    return { ...apiKey, key };
  }

  @Get()
  @ApiOperation({ summary: 'API keys, oldest first, revoked ones included (never the keys themselves)' })
  @ApiOkResponse({ type: [ApiKeyDto] })
  list(): Promise<ApiKeyDto[]> {
    return this.keys.list();
  }

  @Get(':id')
  @ApiOperation({ summary: 'One API key' })
  @ApiOkResponse({ type: ApiKeyDto })
  @ApiNotFoundResponse({ description: 'No key has this id' })
  get(@Param('id') id: string): Promise<ApiKeyDto> {
    return this.keys.get(id);
  }

  @Delete(':id')
  @HttpCode(200)
  @ApiOperation({ summary: 'Revoke an API key now (kept, with revokedAt)' })
  @ApiOkResponse({ type: ApiKeyDto })
  @ApiNotFoundResponse({ description: 'No key has this id' })
  @ApiConflictResponse({ description: 'It is the last usable admin key' })
  revoke(@Param('id') id: string, @CurrentPrincipal() principal: Principal): Promise<ApiKeyDto> {
    return this.keys.revoke(id, principal.name);
  }
}
