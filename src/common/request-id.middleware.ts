import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';

import { replyWithError } from './domain-exception.filter.js';
import { InvalidInputError } from './domain.errors.js';

const REQUEST_ID = Symbol('requestId');
const HEADER = 'x-request-id';
const ACCEPTABLE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Gives every request an id (the caller's X-Request-Id when it is sane) and echoes it in the reply. */
export function requestIdMiddleware(req: Request, res: Response, next: NextFunction): void {
  const offered = req.header(HEADER);
  const id = offered && ACCEPTABLE_ID.test(offered) ? offered : randomUUID();
  (req as unknown as Record<symbol, string>)[REQUEST_ID] = id;
  res.setHeader(HEADER, id);

  next();
}

export function requestIdOf(req: Request): string {
  return (req as unknown as Record<symbol, string | undefined>)[REQUEST_ID] ?? 'none';
}

/** PostgreSQL text cannot hold U+0000: a URL carrying one is refused here, before any route reads it. */
export function refuseNulInUrl(req: Request, res: Response, next: NextFunction): void {
  if (!/%00/i.test(req.originalUrl)) return next();

  const message = 'the URL contains a NUL character (%00), which no identifier or filter can hold';
  replyWithError(req, res, new InvalidInputError(message));
}
