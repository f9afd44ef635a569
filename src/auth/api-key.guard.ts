import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';

import { ForbiddenError, RateLimitedError, UnauthenticatedError } from '../common/domain.errors.js';
import { APP_CONFIG, type AppConfig } from '../config/app.config.js';
import { ApiKeyService } from './api-key.service.js';
import type { ApiKey } from './api-key.types.js';
import { ANONYMOUS_PRINCIPAL, setPrincipal } from './principal.js';
import { RateLimiter } from './rate-limiter.js';
import { grants, PUBLIC_ROUTE, REQUIRED_SCOPE, Scope } from './scope.decorator.js';

/**
 * Every Nest route passes here: public ones through, the rest need a usable key (401), the route's scope (403)
 * and budget left on the key's rate limit (429 with Retry-After). A route that declares no scope needs admin.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  private readonly limiter = new RateLimiter();

  constructor(
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(ApiKeyService) private readonly keys: ApiKeyService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, targets)) return true;

    const request = context.switchToHttp().getRequest<Request>();
    if (this.config.authMode === 'disabled') {
      setPrincipal(request, ANONYMOUS_PRINCIPAL);
      return true;
    }

    const key = await this.authenticate(request);
    this.spend(key, context.switchToHttp().getResponse<Response>());

    const required = this.reflector.getAllAndOverride<Scope>(REQUIRED_SCOPE, targets) ?? Scope.Admin;
    if (!grants(key.scopes, required)) {
      throw new ForbiddenError(`api key "${key.name}" lacks the ${required} scope this route requires`, {
        requiredScope: required,
        keyScopes: key.scopes,
      });
    }

    setPrincipal(request, { keyId: key.id, name: key.name, scopes: key.scopes });
    return true;
  }

  private async authenticate(request: Request): Promise<ApiKey> {
    const presented = presentedKey(request);
    if (presented === null) {
      throw new UnauthenticatedError('an API key is required: send Authorization: Bearer <key> or X-API-Key: <key>');
    }

    const key = await this.keys.authenticate(presented);
    if (!key) throw new UnauthenticatedError('the API key is unknown, revoked or expired');

    return key;
  }

  private spend(key: ApiKey, response: Response): void {
    const perMinute = key.rateLimitPerMinute ?? this.config.rateLimitPerMinute;
    const decision = this.limiter.take(key.id, perMinute);
    if (decision.limit > 0) {
      response.setHeader('RateLimit-Limit', String(decision.limit));
      response.setHeader('RateLimit-Remaining', String(decision.remaining));
    }
    if (decision.allowed) return;

    throw new RateLimitedError(
      `api key "${key.name}" exceeded ${decision.limit} requests per minute; retry in ${decision.retryAfterSeconds} s`,
      decision.retryAfterSeconds,
    );
  }
}

/** The key of `Authorization: Bearer <key>` or `X-API-Key: <key>`; null when neither is sent. */
function presentedKey(request: Request): string | null {
  const authorization = request.headers.authorization?.trim();
  const bearer = authorization?.match(/^Bearer\s+(\S+)$/i)?.[1];
  if (bearer) return bearer;

  const header = request.headers['x-api-key'];
  const value = (Array.isArray(header) ? header[0] : header)?.trim();
  return value ? value : null;
}
