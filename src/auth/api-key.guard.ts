import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';

import { DomainError, ForbiddenError, RateLimitedError, UnauthenticatedError } from '../common/domain.errors.js';
import { JsonLogger } from '../common/json.logger.js';
import { requestIdOf } from '../common/request-id.middleware.js';
import { APP_CONFIG, type AppConfig } from '../config/app.config.js';
import { ApiKeyService } from './api-key.service.js';
import type { ApiKey } from './api-key.types.js';
import { ANONYMOUS_PRINCIPAL, setPrincipal, type Principal } from './principal.js';
import { RateLimiter } from './rate-limiter.js';
import { grants, PUBLIC_ROUTE, REQUIRED_SCOPE, Scope } from './scope.decorator.js';

/**
 * Every Nest route passes here: public ones through, the rest need a usable key (401), the route's scope (403)
 * and budget left on the key's rate limit (429 with Retry-After). A route that declares no scope needs admin.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  private readonly limiter = new RateLimiter();
  private readonly refusals = new RefusalLog();

  constructor(
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(ApiKeyService) private readonly keys: ApiKeyService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (this.isPublic(context)) return true;

    const request = context.switchToHttp().getRequest<Request>();
    if (this.config.authMode === 'disabled') {
      setPrincipal(request, ANONYMOUS_PRINCIPAL);
      return true;
    }

    try {
      setPrincipal(request, await this.admit(context, request));
      return true;
    } catch (error) {
      this.refusals.record(request, error);
      throw error;
    }
  }

  /** Public unless the handler itself declares a scope: a scope on a method wins over a public controller. */
  private isPublic(context: ExecutionContext): boolean {
    if (this.reflector.get<Scope | undefined>(REQUIRED_SCOPE, context.getHandler()) !== undefined) return false;

    return this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, [context.getHandler(), context.getClass()]) === true;
  }

  private async admit(context: ExecutionContext, request: Request): Promise<Principal> {
    const key = await this.authenticate(request);
    this.spend(key, context.switchToHttp().getResponse<Response>());

    const targets = [context.getHandler(), context.getClass()];
    const required = this.reflector.getAllAndOverride<Scope>(REQUIRED_SCOPE, targets) ?? Scope.Admin;
    if (!grants(key.scopes, required)) {
      throw new ForbiddenError(`api key "${key.name}" lacks the ${required} scope this route requires`, {
        requiredScope: required,
        keyScopes: key.scopes,
      });
    }

    return { keyId: key.id, name: key.name, scopes: key.scopes };
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

/** Most refusal lines logged per minute; the rest are counted and reported in one line when the minute ends. */
const REFUSALS_LOGGED_PER_MINUTE = 60;
const MINUTE_MS = 60_000;

/**
 * Logs refused requests (401, 403, 429) with the request id, route and reason, never the key: a flood of them (a
 * scanner, a misconfigured client) costs at most REFUSALS_LOGGED_PER_MINUTE lines a minute plus one summary.
 */
class RefusalLog {
  private readonly logger = JsonLogger.for('auth');
  private windowStart = 0;
  private logged = 0;
  private unlogged = 0;
  private flush: NodeJS.Timeout | null = null;

  record(request: Request, error: unknown): void {
    if (!(error instanceof DomainError)) return;

    this.roll(Date.now());
    if (this.logged >= REFUSALS_LOGGED_PER_MINUTE) return this.countUnlogged();

    this.logged++;
    this.logger.warning('request refused', {
      requestId: requestIdOf(request),
      method: request.method,
      path: request.path,
      code: error.code,
      reason: error.message,
      remoteAddress: request.socket.remoteAddress ?? null,
    });
  }

  /** Counts a refusal past the budget; the count is logged when the minute ends, even if no refusal follows. */
  private countUnlogged(): void {
    this.unlogged++;
    if (this.flush) return;

    const msLeft = Math.max(0, this.windowStart + MINUTE_MS - Date.now());
    this.flush = setTimeout(() => this.roll(Date.now()), msLeft);
    this.flush.unref();
  }

  private roll(now: number): void {
    if (now - this.windowStart < MINUTE_MS) return;

    if (this.unlogged > 0) {
      this.logger.warning('refused requests not logged', {
        count: this.unlogged,
        perMinute: REFUSALS_LOGGED_PER_MINUTE,
      });
    }
    if (this.flush) clearTimeout(this.flush);
    this.flush = null;
    this.windowStart = now;
    this.logged = 0;
    this.unlogged = 0;
  }
}
