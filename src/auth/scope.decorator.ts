import { applyDecorators, SetMetadata } from '@nestjs/common';
import {
  ApiExtension,
  ApiForbiddenResponse,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';

/** What a key may do. `admin` includes every other scope. */
export const Scope = {
  Ingest: 'ingest',
  Read: 'read',
  Triage: 'triage',
  Admin: 'admin',
} as const;
export type Scope = (typeof Scope)[keyof typeof Scope];
export const SCOPES: readonly Scope[] = Object.values(Scope);

export const REQUIRED_SCOPE = 'auth:requiredScope';
export const PUBLIC_ROUTE = 'auth:public';

/** The OpenAPI security scheme names (see app.setup.ts). */
export const BEARER_SCHEME = 'bearer';
export const API_KEY_SCHEME = 'apiKey';

/**
 * The scope a route (or every route of a controller) requires; a method's overrides its controller's, and a scope
 * on a method wins over a public controller. The OpenAPI document marks every route with `x-required-scope` as
 * needing one of the two security schemes (app.setup.ts). Routes with neither this nor `PublicRoute` are refused to
 * every key but admin ones, so a forgotten decorator fails closed.
 */
export function RequireScope(scope: Scope): MethodDecorator & ClassDecorator {
  return applyDecorators(
    SetMetadata(REQUIRED_SCOPE, scope),
    ApiExtension('x-required-scope', scope),
    ApiUnauthorizedResponse({ description: 'No API key, or one that is unknown or revoked' }),
    ApiForbiddenResponse({ description: `The key lacks the \`${scope}\` scope` }),
    ApiTooManyRequestsResponse({ description: "The key's rate limit is used up; see Retry-After" }),
  );
}

/** A route anyone may call without a key (health, the explorer page). */
export function PublicRoute(): MethodDecorator & ClassDecorator {
  return SetMetadata(PUBLIC_ROUTE, true);
}

/** Whether a key holding `held` may call a route requiring `required`. */
export function grants(held: readonly Scope[], required: Scope): boolean {
  return held.includes(Scope.Admin) || held.includes(required);
}
