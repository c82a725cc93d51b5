import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { STATUS_CODES } from 'node:http';
import { HttpRequest, requestPath } from '../http/http-request';
import { AppError } from './domain-errors';
import { FieldError, PROBLEM_CONTENT_TYPE, ProblemDetails, problemType } from './problem-details';

interface Problem {
  status: number;
  code: string;
  detail: string;
  errors?: FieldError[];
  headers?: Record<string, string>;
}

/** The code of an HTTP status raised by Nest or a library rather than by a service. */
const STATUS_CODE_NAMES: Record<number, string> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  406: 'NOT_ACCEPTABLE',
  408: 'REQUEST_TIMEOUT',
  409: 'CONFLICT',
  410: 'GONE',
  411: 'LENGTH_REQUIRED',
  413: 'PAYLOAD_TOO_LARGE',
  414: 'URI_TOO_LONG',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  422: 'UNPROCESSABLE_CONTENT',
  429: 'RATE_LIMITED',
  503: 'SERVICE_UNAVAILABLE',
};

/** Body-parser failures (http-errors `type`), which Nest wraps in an HttpException. */
const BODY_ERRORS: Record<string, Problem> = {
  'entity.parse.failed': {
    status: 400,
    code: 'MALFORMED_JSON',
    detail: 'The request body is not valid JSON.',
  },
  'entity.too.large': {
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
    detail: 'The request body is too large.',
  },
  'encoding.unsupported': {
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
    detail: 'The request body uses an unsupported content encoding.',
  },
  'charset.unsupported': {
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
    detail: 'The request body uses an unsupported charset.',
  },
  'request.aborted': {
    status: 400,
    code: 'BAD_REQUEST',
    detail: 'The request was aborted by the client.',
  },
  'request.size.invalid': {
    status: 400,
    code: 'BAD_REQUEST',
    detail: 'The request body does not match its Content-Length.',
  },
  'parameters.too.many': {
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
    detail: 'The form has too many parameters.',
  },
};

/** Any other failure to read a body (one that does not inflate for its Content-Encoding...). */
const UNREADABLE_BODY: Problem = {
  status: 400,
  code: 'BAD_REQUEST',
  detail: 'The request body could not be read; check its Content-Encoding and length.',
};

const INTERNAL: Problem = {
  status: 500,
  code: 'INTERNAL',
  detail: 'An unexpected error occurred. Quote the requestId when reporting it.',
};

/**
 * The one HTTP exception filter: every error leaves as RFC 9457 problem+json with a stable
 * code and the request id. A 5xx never shows its cause; it is logged with the request id.
 */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Exceptions');

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const request = host.switchToHttp().getRequest<HttpRequest>();
    const response: unknown = host.switchToHttp().getResponse();
    const problem = toProblem(exception);
    if (problem.status >= 500) {
      this.logger.error({ err: exception, requestId: request.id }, 'Request failed');
    }
    const body: ProblemDetails = {
      type: problemType(problem.code),
      title: STATUS_CODES[problem.status] ?? 'Error',
      status: problem.status,
      detail: problem.detail,
      instance: requestPath(request),
      code: problem.code,
      requestId: request.id,
      ...(problem.errors && { errors: problem.errors }),
    };
    const adapter = this.adapterHost.httpAdapter;
    if (adapter.isHeadersSent(response)) {
      adapter.end(response);
      return;
    }
    for (const [name, value] of Object.entries(problem.headers ?? {})) {
      adapter.setHeader(response, name, value);
    }
    adapter.setHeader(response, 'Content-Type', PROBLEM_CONTENT_TYPE);
    adapter.reply(response, body, problem.status);
  }
}

/** The database could not be reached or went away: the client may retry shortly. */
const DATABASE_UNAVAILABLE: Problem = {
  status: 503,
  code: 'SERVICE_UNAVAILABLE',
  detail: 'The database is temporarily unavailable.',
  headers: { 'Retry-After': '5' },
};

function toProblem(exception: unknown): Problem {
  if (exception instanceof AppError) {
    return exception;
  }
  if (isDatabaseUnavailable(exception)) {
    return DATABASE_UNAVAILABLE;
  }
  if (!(exception instanceof HttpException)) {
    return INTERNAL;
  }
  const status = exception.getStatus();
  const cause = exception.cause as { type?: unknown } | undefined;
  if (typeof cause?.type === 'string' && BODY_ERRORS[cause.type]) {
    return BODY_ERRORS[cause.type];
  }
  if (exception.cause instanceof SyntaxError) {
    return BODY_ERRORS['entity.parse.failed'];
  }
  // Any other http-errors error is a library's (zlib's "incorrect header check"): not for clients.
  if (
    status === 400 &&
    typeof (cause as { statusCode?: unknown } | undefined)?.statusCode === 'number'
  ) {
    return UNREADABLE_BODY;
  }
  if (status >= 500) {
    return status === 503
      ? { status, code: 'SERVICE_UNAVAILABLE', detail: 'The service is temporarily unavailable.' }
      : INTERNAL;
  }
  return {
    status,
    code: STATUS_CODE_NAMES[status] ?? `HTTP_${status}`,
    detail: detailOf(exception),
  };
}

/** Nest's own 4xx messages are safe to show ("Cannot GET /v1/nope"). */
function detailOf(exception: HttpException): string {
  const response = exception.getResponse();
  if (typeof response === 'string') return response;
  const message = (response as { message?: unknown }).message;
  if (typeof message === 'string') return message;
  if (Array.isArray(message)) return message.join('; ');
  return exception.message;
}

/**
 * pg's and PostgreSQL's ways of saying the database is not there: SQLSTATE class 08 (connection
 * exception) and 57P01-03 (shutdown, crash, cannot connect now), refused or reset sockets, and
 * the pool's and the client's own timeouts, which carry no code.
 */
function isDatabaseUnavailable(exception: unknown): boolean {
  if (!(exception instanceof Error)) return false;
  const cause = (exception as { driverError?: unknown }).driverError ?? exception;
  const { code, message } = cause as { code?: unknown; message?: unknown };
  if (typeof code === 'string') {
    return (
      /^(08|57P0[123]$)/.test(code) ||
      ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE'].includes(code)
    );
  }
  return (
    typeof message === 'string' &&
    /^(Connection terminated|timeout exceeded when trying to connect|Query read timeout)/.test(
      message,
    )
  );
}
