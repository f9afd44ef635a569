import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Patch, Post, Query } from '@nestjs/common';
import {
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';

import { CurrentPrincipal, type Principal } from '../auth/principal.js';
import { RequireScope, Scope } from '../auth/scope.decorator.js';
import {
  CreatedWebhookDto,
  CreateWebhookDto,
  DeliveryPageDto,
  DeliveryQueryDto,
  UpdateWebhookDto,
  WebhookDeliveryDto,
  WebhookDto,
} from './webhook.dto.js';
import { WebhookService } from './webhook.service.js';

const DEFAULT_PAGE_SIZE = 100;

@ApiTags('webhooks')
@RequireScope(Scope.Admin)
@Controller('api/v1/webhooks')
export class WebhooksController {
  constructor(@Inject(WebhookService) private readonly webhooks: WebhookService) {}

  @Post()
  @ApiOperation({
    summary: 'Register an endpoint for alert changes',
    description:
      'Every alert change of a type in `events` is POSTed to `url` as JSON, signed with the secret ' +
      '(X-Webhook-Signature: sha256=<hex HMAC-SHA256 of "<X-Webhook-Timestamp>.<body>">), retried with ' +
      'exponential backoff until the receiver answers 2xx. The secret is in this reply only.',
  })
  @ApiCreatedResponse({ type: CreatedWebhookDto })
  create(@Body() body: CreateWebhookDto, @CurrentPrincipal() principal: Principal): Promise<CreatedWebhookDto> {
    return this.webhooks.create(body, principal.name, new Date());
  }

  @Get()
  @ApiOperation({ summary: 'Webhooks, oldest first (never their secrets)' })
  @ApiOkResponse({ type: [WebhookDto] })
  list(): Promise<WebhookDto[]> {
    return this.webhooks.list();
  }

  @Get(':id')
  @ApiOperation({ summary: 'One webhook (never its secret)' })
  @ApiOkResponse({ type: WebhookDto })
  @ApiNotFoundResponse({ description: 'No webhook has this id' })
  get(@Param('id') id: string): Promise<WebhookDto> {
    return this.webhooks.get(id);
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Change name, url, events or active; pending deliveries go to the url in force' })
  @ApiOkResponse({ type: WebhookDto })
  @ApiNotFoundResponse({ description: 'No webhook has this id' })
  update(
    @Param('id') id: string,
    @Body() body: UpdateWebhookDto,
    @CurrentPrincipal() principal: Principal,
  ): Promise<WebhookDto> {
    return this.webhooks.update(id, body, principal.name, new Date());
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a webhook with its deliveries, pending ones included' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiNotFoundResponse({ description: 'No webhook has this id' })
  delete(@Param('id') id: string, @CurrentPrincipal() principal: Principal): Promise<void> {
    return this.webhooks.delete(id, principal.name);
  }

  @Get(':id/deliveries')
  @ApiOperation({
    summary: "A webhook's deliveries, oldest change first, paged by change sequence number",
    description: 'Pass `nextAfter` back as `after` for the next page. The body sent is not listed.',
  })
  @ApiOkResponse({ type: DeliveryPageDto })
  @ApiNotFoundResponse({ description: 'No webhook has this id' })
  deliveries(@Param('id') id: string, @Query() query: DeliveryQueryDto): Promise<DeliveryPageDto> {
    return this.webhooks.deliveries(id, { ...query, after: query.after ?? 0, limit: query.limit ?? DEFAULT_PAGE_SIZE });
  }

  @Post(':id/deliveries/:deliveryId/redeliver')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Queue a failed delivery again, due now, with the same id and body and a fresh attempt budget',
    description: 'A pending delivery is returned as it is (already queued).',
  })
  @ApiOkResponse({ type: WebhookDeliveryDto })
  @ApiNotFoundResponse({ description: 'No webhook has this id, or it has no delivery with this id' })
  @ApiConflictResponse({ description: 'The delivery was delivered' })
  redeliver(
    @Param('id') id: string,
    @Param('deliveryId') deliveryId: string,
    @CurrentPrincipal() principal: Principal,
  ): Promise<WebhookDeliveryDto> {
    return this.webhooks.redeliver(id, deliveryId, principal.name, new Date());
  }
}
