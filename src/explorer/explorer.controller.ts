import { Controller, Get, Param, Res } from '@nestjs/common';
import { ApiExcludeEndpoint, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';

import { PublicRoute } from '../auth/scope.decorator.js';
import { EXPLORER_PAGE, ExplorerAssets, type ExplorerAsset } from './explorer.assets.js';

/**
 * The page may load only its own scripts, styles and API: no inline code, no other origin, no framing.
 * `img-src data:` is for the empty favicon link only (browsers would otherwise request /favicon.ico).
 */
export const EXPLORER_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * The graph explorer: GET / serves the page, GET /explorer/<asset> its script, style sheet, config and the
 * vendored Cytoscape.js. Public: the page asks for an API key and sends it with its own API calls. The OpenAPI
 * document lists the page, not its assets.
 */
@ApiTags('explorer')
@PublicRoute()
@Controller()
export class ExplorerController {
  /** Not a provider: the files are the controller's own and need nothing from the application. */
  private readonly assets = new ExplorerAssets();

  @Get()
  @ApiOperation({
    summary: 'The graph explorer page (HTML, no key needed)',
    description:
      'Lists alerts with filters and draws the selected alert graph (Cytoscape.js); clicking a node or edge shows ' +
      'its properties and raw evidence. The page sends the API key typed into it (kept in sessionStorage) as ' +
      'X-API-Key with its own API calls.',
  })
  @ApiOkResponse({ description: 'The page', content: { 'text/html': { schema: { type: 'string' } } } })
  async page(@Res() res: Response): Promise<void> {
    send(res, await this.assets.get(EXPLORER_PAGE));
  }

  @Get('explorer/:asset')
  @ApiExcludeEndpoint()
  async asset(@Param('asset') name: string, @Res() res: Response): Promise<void> {
    send(res, await this.assets.get(name));
  }
}

/** Express adds the ETag and answers If-None-Match with 304; no-cache makes browsers ask each time. */
function send(res: Response, asset: ExplorerAsset): void {
  res.setHeader('Content-Security-Policy', EXPLORER_CSP);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('Cache-Control', 'no-cache');
  res.type(asset.contentType).send(asset.body);
}
