import express, { type NextFunction, type Request, type Response } from 'express';

import { replyWithError } from './domain-exception.filter.js';
import { BodyParseError, PayloadTooLargeError, UnsupportedMediaTypeError } from './domain.errors.js';

/** Ingest bodies are streamed and bounded by the ingest service itself (INGEST_MAX_BYTES, after decompression). */
const STREAMED_PATHS = /^\/api\/v1\/events(\/|$)/i;

interface BodyLimit {
  methods: readonly string[];
  path: RegExp;
  /** In bytes; the reply to a larger body is 413 naming this number. */
  limitBytes: number;
}

const KB = 1024;

/** What is read as JSON: plain JSON and its structured suffix (merge-patch+json, vnd.api+json...). */
const JSON_TYPES = ['application/json', 'application/*+json'];

/**
 * The largest JSON body each route accepts, first match wins. Sized for what the route can legitimately carry:
 * a triage change or a key is a few hundred bytes; rule settings carry up to 500 exclusions.
 */
export const BODY_LIMITS: readonly BodyLimit[] = [
  { methods: ['PATCH'], path: /^\/api\/v1\/alerts\/[^/]+\/?$/i, limitBytes: 16 * KB },
  { methods: ['POST'], path: /^\/api\/v1\/api-keys\/?$/i, limitBytes: 4 * KB },
  { methods: ['POST'], path: /^\/api\/v1\/suppressions\/?$/i, limitBytes: 8 * KB },
  { methods: ['POST', 'PATCH'], path: /^\/api\/v1\/webhooks(\/[^/]+)?\/?$/i, limitBytes: 16 * KB },
  { methods: ['PUT'], path: /^\/api\/v1\/rules\/[^/]+\/?$/i, limitBytes: 1024 * KB },
];

/** Every other route with a body: they take none, or a tiny one. */
export const DEFAULT_BODY_LIMIT_BYTES = 16 * KB;

/**
 * Parses JSON bodies under the limit of their route; streamed ingest routes pass through untouched. Paths match
 * without case and with a trailing slash, as the router does. A body of another media type is refused (415)
 * rather than read as no body, which would make a PATCH sent as text/plain a silent no-op.
 */
export function jsonBodiesWithinRouteLimits() {
  const parsers = new Map<number, ReturnType<typeof express.json>>();
  const parserFor = (limitBytes: number) => {
    if (!parsers.has(limitBytes)) parsers.set(limitBytes, express.json({ limit: limitBytes, type: JSON_TYPES }));
    return parsers.get(limitBytes)!;
  };

  return (req: Request, res: Response, next: NextFunction) => {
    if (STREAMED_PATHS.test(req.path)) return next();

    if (hasBody(req) && !req.is(JSON_TYPES)) {
      const mediaType = req.headers['content-type'] ?? '(none)';
      return replyWithError(
        req,
        res,
        new UnsupportedMediaTypeError(`${req.method} ${req.path} reads JSON, not ${mediaType}`),
      );
    }

    const limitBytes = limitFor(req.method, req.path);
    parserFor(limitBytes)(req, res, (error?: unknown) => {
      if (!error) return next();
      replyWithError(req, res, bodyError(error, req, limitBytes));
    });
  };
}

/** Whether the request says it carries a body (a length above 0, or chunks). */
function hasBody(req: Request): boolean {
  const length = req.headers['content-length'];

  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && Number(length) > 0);
}

export function limitFor(method: string, path: string): number {
  const rule = BODY_LIMITS.find((r) => r.methods.includes(method) && r.path.test(path));

  return rule?.limitBytes ?? DEFAULT_BODY_LIMIT_BYTES;
}

function bodyError(error: unknown, req: Request, limitBytes: number): Error {
  if ((error as { status?: number }).status === 413) {
    return new PayloadTooLargeError(`${req.method} ${req.path} takes JSON bodies of at most ${limitBytes} bytes`, {
      limitBytes,
    });
  }

  return new BodyParseError(`body is not valid JSON: ${(error as Error).message}`);
}
