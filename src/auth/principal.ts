import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';

import type { Scope } from './scope.decorator.js';

/** Who is calling: the API key a request authenticated with, or the stand-in used when auth is switched off. */
export interface Principal {
  keyId: string | null;
  /** The key's name, recorded as the actor of changes (alert history, suppressions). */
  name: string;
  scopes: readonly Scope[];
}

/** The principal when AUTH_MODE=disabled: every scope, recorded as this name. */
export const ANONYMOUS_PRINCIPAL: Principal = { keyId: null, name: 'anonymous (auth disabled)', scopes: ['admin'] };

const PRINCIPAL = Symbol('principal');

export function setPrincipal(request: Request, principal: Principal): void {
  (request as unknown as Record<symbol, Principal>)[PRINCIPAL] = principal;
}

export function principalOf(request: Request): Principal {
  return (request as unknown as Record<symbol, Principal | undefined>)[PRINCIPAL] ?? ANONYMOUS_PRINCIPAL;
}

/** Handler parameter: the calling principal (set by the auth guard). */
export const CurrentPrincipal = createParamDecorator((_data: unknown, ctx: ExecutionContext): Principal => {
  return principalOf(ctx.switchToHttp().getRequest<Request>());
});
