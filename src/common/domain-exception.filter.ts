import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus } from '@nestjs/common';
import type { Request, Response } from 'express';

import {
  BodyParseError,
  ConflictError,
  DomainError,
  ForbiddenError,
  InvalidInputError,
  NotFoundError,
  PayloadTooLargeError,
  PreconditionFailedError,
  PreconditionRequiredError,
  RateLimitedError,
  UnauthenticatedError,
  UnsupportedMediaTypeError,
} from './domain.errors.js';
import { JsonLogger } from './json.logger.js';
import { requestIdOf } from './request-id.middleware.js';

const STATUS_BY_ERROR = new Map<Function, number>([
  [InvalidInputError, HttpStatus.BAD_REQUEST],
  [BodyParseError, HttpStatus.BAD_REQUEST],
  [NotFoundError, HttpStatus.NOT_FOUND],
  [ConflictError, HttpStatus.CONFLICT],
  [PayloadTooLargeError, HttpStatus.PAYLOAD_TOO_LARGE],
  [UnsupportedMediaTypeError, HttpStatus.UNSUPPORTED_MEDIA_TYPE],
  [UnauthenticatedError, HttpStatus.UNAUTHORIZED],
  [ForbiddenError, HttpStatus.FORBIDDEN],
  [PreconditionFailedError, HttpStatus.PRECONDITION_FAILED],
  [PreconditionRequiredError, HttpStatus.PRECONDITION_REQUIRED],
  [RateLimitedError, HttpStatus.TOO_MANY_REQUESTS],
]);

export interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
  details?: unknown;
  requestId: string;
}

/** The one place where errors become HTTP replies. */
@Catch()
export class DomainExceptionFilter implements ExceptionFilter {
  private readonly logger = JsonLogger.for(DomainExceptionFilter.name);

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<Request>();
    const response = http.getResponse<Response>();
    const body = errorBody(exception, requestIdOf(request));

    if (body.statusCode >= 500) {
      this.logger.failure('request failed', { requestId: body.requestId, path: request.path, error: exception });
    }
    if (response.headersSent) {
      response.end();
      return;
    }

    setErrorHeaders(response, exception);
    response.status(body.statusCode).json(body);
  }
}

/** Headers some errors carry: `Retry-After` on 429, the accepted schemes on 401. */
function setErrorHeaders(response: Response, exception: unknown): void {
  if (exception instanceof RateLimitedError) response.setHeader('Retry-After', String(exception.retryAfterSeconds));
  if (exception instanceof UnauthenticatedError) response.setHeader('WWW-Authenticate', 'Bearer realm="api"');
  if (exception instanceof PreconditionFailedError || exception instanceof PreconditionRequiredError) {
    const etag = exception.details?.currentEtag;
    if (typeof etag === 'string') response.setHeader('ETag', etag);
  }
}

/** The reply for any error: domain errors by their class, Nest HTTP exceptions by status, anything else 500. */
export function errorBody(exception: unknown, requestId: string): ErrorBody {
  if (exception instanceof DomainError) {
    const statusCode = STATUS_BY_ERROR.get(exception.constructor) ?? HttpStatus.BAD_REQUEST;
    return { statusCode, error: exception.code, message: exception.message, details: exception.details, requestId };
  }
  if (exception instanceof HttpException) return fromHttpException(exception, requestId);

  const statusCode = HttpStatus.INTERNAL_SERVER_ERROR;
  return {
    statusCode,
    error: 'internal_error',
    message: 'internal error; see the logs for this request id',
    requestId,
  };
}

/** For Express middleware, which runs before Nest and its filters: replies to `error` as the filter would. */
export function replyWithError(req: Request, res: Response, error: unknown): void {
  const body = errorBody(error, requestIdOf(req));

  setErrorHeaders(res, error);
  res.status(body.statusCode).json(body);
}

function fromHttpException(exception: HttpException, requestId: string): ErrorBody {
  const statusCode = exception.getStatus();
  const reply = exception.getResponse();
  const messages = typeof reply === 'object' && reply !== null ? (reply as { message?: unknown }).message : reply;
  const message = Array.isArray(messages) ? messages.join('; ') : String(messages ?? exception.message);
  const details = Array.isArray(messages) ? { violations: messages } : undefined;

  return { statusCode, error: errorCodeForStatus(statusCode), message, details, requestId };
}

function errorCodeForStatus(status: number): string {
  const name = HttpStatus[status];

  return name ? name.toLowerCase() : 'http_error';
}
