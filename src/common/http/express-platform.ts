import { NestExpressApplication } from '@nestjs/platform-express';
import compression from 'compression';
import cors from 'cors';
import {
  json,
  urlencoded,
  type NextFunction,
  type Request,
  type RequestHandler,
  type Response,
} from 'express';
import helmet from 'helmet';
import { randomUUID } from 'node:crypto';
import { STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { AppConfig } from '../../config/app-config';
import { BadRequest, NotFound } from '../errors/domain-errors';
import { PROBLEM_CONTENT_TYPE, ProblemDetails, problemType } from '../errors/problem-details';
import { ShutdownState } from '../lifecycle/shutdown-state';
import { requestContext } from '../logging/request-context';
import { MetricsService } from '../metrics/metrics.service';
import { selectApiVersion, SUPPORTED_API_VERSIONS } from './api-version';
import { requestObserver } from './request-observer';

export const JSON_BODY_LIMIT = '100kb';
/** Inbound webhooks carry partners' events, which may be larger than API requests. */
export const WEBHOOK_BODY_LIMIT = '256kb';
const JSON_TYPES = ['application/json', 'application/*+json'];

/** Headers browsers may read on cross-origin responses. */
const EXPOSED_HEADERS = [
  'X-Request-Id',
  'X-API-Version',
  'Location',
  'Deprecation',
  'Link',
  'Retry-After',
  'X-RateLimit-Limit',
  'X-RateLimit-Remaining',
  'X-RateLimit-Reset',
  'X-Cache',
];

interface PlatformDeps {
  config: AppConfig;
  logger: Logger;
  metrics: MetricsService;
  shutdown: ShutdownState;
}

/**
 * Everything Express-specific, in the order a request meets it: Keel's own per-request work in
 * one middleware (id, access log and metrics first, so even a rejected body is logged and
 * counted; then versioning and headers), compression, CORS and the body parsers. Each is skipped
 * when the request cannot need it. Swapping the adapter replaces only this file.
 */
export function configureExpress(app: NestExpressApplication, deps: PlatformDeps): void {
  const { config } = deps;
  limitSlowClients(app.getHttpServer());
  answerMalformedRequests(app.getHttpServer());
  app.set('trust proxy', config.http.trustProxy);
  app.disable('x-powered-by');
  app.use(everyRequest(deps));
  app.use(compressWhenAccepted());
  app.use(corsWhenCrossOrigin(config));
  app.use(bodyParsers());
}

/**
 * The request id (bound to every log line written while handling the request), the access log
 * and metrics, the API version, the security headers, no-store for authenticated requests and
 * Connection: close while draining: one Express layer instead of six.
 */
function everyRequest(deps: PlatformDeps): RequestHandler {
  const observe = requestObserver(deps.logger, deps.metrics);
  const headers = securityHeaders(deps.config.app.env === 'production');
  const { shutdown } = deps;
  return (req, res, next) => {
    const id = observe(req, res);
    const selection = selectApiVersion(req.url, req.headers['x-api-version']);
    if (selection.kind === 'unsupported') {
      res.setHeader('X-API-Version', SUPPORTED_API_VERSIONS[0]);
      requestContext.run(id, () => next(unsupportedVersion(selection.requested)));
      return;
    }
    if (selection.kind === 'rewrite') req.url = selection.url;
    res.setHeader('X-API-Version', selection.version);
    headers(req, res);
    if (req.headers.authorization !== undefined || req.headers['x-api-key'] !== undefined) {
      res.setHeader('Cache-Control', 'no-store');
    }
    // While shutting down, keep-alive connections close after their response.
    if (shutdown.isShuttingDown) res.setHeader('Connection', 'close');
    // Everything after this layer runs, and logs, in the request's context.
    requestContext.run(id, next);
  };
}

function unsupportedVersion(requested: string): BadRequest {
  return new BadRequest(
    'UNSUPPORTED_API_VERSION',
    `X-API-Version "${requested}" is not supported; use one of ${SUPPORTED_API_VERSIONS.join(', ')}.`,
  );
}

/**
 * Node's defaults let a client take 60 s to send headers and 300 s to send a request (slowloris);
 * requests here are small, so a client gets 15 s for its headers and 30 s in all. An idle
 * keep-alive connection stays open 65 s, not Node's 5: load balancers (ingress-nginx, AWS ALB)
 * keep theirs 60 s, and one that reuses a connection the server has just closed answers a 502.
 */
function limitSlowClients(server: Server): void {
  server.headersTimeout = 15_000;
  server.requestTimeout = 30_000;
  server.keepAliveTimeout = 65_000;
}

/** What Node refuses before Express sees a request, by its parser's error code. */
const CLIENT_ERRORS: Record<string, [status: number, code: string, detail: string]> = {
  HPE_HEADER_OVERFLOW: [431, 'HEADERS_TOO_LARGE', 'The request headers are too large.'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'REQUEST_TIMEOUT', 'The request took too long to arrive.'],
};
const MALFORMED: [number, string, string] = [400, 'BAD_REQUEST', 'The request is not valid HTTP.'];

/**
 * Requests Node's HTTP parser refuses (headers over 16 kB, an unknown method, a malformed line)
 * or a client too slow to send one: answered as problem+json, like every other error, instead of
 * Node's bare status line. There is no request object yet: the response is written to the socket.
 */
function answerMalformedRequests(server: Server): void {
  server.on(
    'clientError',
    (error: Error & { code?: string; rawPacket?: Buffer }, socket: Duplex) => {
      if (error.code === 'ECONNRESET' || !socket.writable) {
        socket.destroy();
        return;
      }
      const [status, code, detail] = CLIENT_ERRORS[error.code ?? ''] ?? MALFORMED;
      const requestId = randomUUID();
      const title = STATUS_CODES[status] ?? 'Error';
      const body = JSON.stringify({
        type: problemType(code),
        title,
        status,
        detail,
        instance: requestTarget(error.rawPacket) ?? `urn:uuid:${requestId}`,
        code,
        requestId,
      } satisfies ProblemDetails);
      socket.end(
        `HTTP/1.1 ${status} ${title}\r\n` +
          `Content-Type: ${PROBLEM_CONTENT_TYPE}\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\n` +
          `X-Request-Id: ${requestId}\r\n` +
          'Connection: close\r\n\r\n' +
          body,
      );
    },
  );
}

/** The path of the request line in what the parser had read, when it is one. */
function requestTarget(raw: Buffer | undefined): string | undefined {
  const line = raw?.toString('latin1', 0, Math.min(raw.length, 2048)).split('\r\n', 1)[0];
  return line ? /^[A-Z]+ (\/[!-~]*?)(?:\?[!-~]*)? HTTP\/1\.[01]$/.exec(line)?.[1] : undefined;
}

/** Only the paths `allowed` matches are served (the worker's port: health and metrics); others 404. */
export function serveOnly(app: NestExpressApplication, allowed: RegExp): void {
  app.use((req: Request, _res: Response, next: NextFunction) =>
    allowed.test(req.path) ? next() : next(new NotFound('Route')),
  );
}

/**
 * A strict policy for the JSON API; Swagger UI under /docs needs its own scripts and styles.
 * The API's headers are helmet's, computed once: they are the same for every response.
 */
function securityHeaders(production: boolean): (req: Request, res: Response) => void {
  const hsts = production ? { maxAge: 31_536_000, includeSubDomains: true } : false;
  // Outside production the API is usually plain http://localhost, which upgrading would break.
  const upgradeInsecureRequests = production ? [] : null;
  // JSON is not a document: the headers OWASP's REST guidance asks for, and no HTML-only ones.
  const api = headersOf(
    helmet({
      contentSecurityPolicy: {
        useDefaults: false,
        directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
      },
      frameguard: { action: 'deny' },
      strictTransportSecurity: hsts,
      crossOriginOpenerPolicy: false,
      originAgentCluster: false,
      xDnsPrefetchControl: false,
      xDownloadOptions: false,
      xPermittedCrossDomainPolicies: false,
      xXssProtection: false,
    }),
  );
  const docs = helmet({
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
        frameAncestors: ["'none'"],
        upgradeInsecureRequests,
      },
    },
    frameguard: { action: 'deny' },
    strictTransportSecurity: hsts,
  });
  return (req, res) => {
    if (DOCS_PATH.test(req.path)) docs(req, res, () => undefined);
    else for (const [name, value] of api) res.setHeader(name, value);
  };
}

const DOCS_PATH = /^\/docs(?:\/|$)/;

/** The headers a helmet middleware sets (it sets them synchronously, whatever the request). */
function headersOf(middleware: ReturnType<typeof helmet>): [string, string][] {
  const headers: [string, string][] = [];
  const recorder = {
    setHeader: (name: string, value: string) => headers.push([name, value]),
    removeHeader: () => undefined,
  };
  middleware({} as IncomingMessage, recorder as unknown as ServerResponse, () => undefined);
  return headers;
}

/** Clients that accept no encoding skip the compression machinery altogether. */
function compressWhenAccepted(): RequestHandler {
  const compress = compression({ threshold: 1024 });
  return (req, res, next) =>
    req.headers['accept-encoding'] === undefined ? next() : compress(req, res, next);
}

/**
 * CORS for cross-origin requests (they carry Origin); the allowed origin is the request's, so
 * every response varies by it, for the caches in between.
 */
function corsWhenCrossOrigin(config: AppConfig): RequestHandler {
  const handle = cors({
    origin: config.http.corsOrigins === '*' ? true : config.http.corsOrigins,
    exposedHeaders: EXPOSED_HEADERS,
    maxAge: 600,
  });
  return (req, res, next) => {
    if (req.headers.origin !== undefined) return handle(req, res, next);
    res.setHeader('Vary', 'Origin');
    next();
  };
}

/**
 * JSON (and forms, for the OAuth2 token endpoint) for requests that carry a body; inbound
 * webhooks may be larger. Bodiless requests (every GET) skip the parsers.
 */
function bodyParsers(): RequestHandler {
  const apiJson = json({ limit: JSON_BODY_LIMIT, type: JSON_TYPES });
  const webhookJson = json({ limit: WEBHOOK_BODY_LIMIT, type: JSON_TYPES });
  const form = urlencoded({ limit: JSON_BODY_LIMIT, extended: false });
  return (req, res, next) => {
    if (!hasBody(req)) return next();
    const parseJson = WEBHOOK_PATH.test(req.path) ? webhookJson : apiJson;
    parseJson(req, res, (error?: unknown) => (error ? next(error) : form(req, res, next)));
  };
}

const WEBHOOK_PATH = /^\/v\d+\/webhooks\//;

/** As the parsers themselves decide (an empty JSON body still parses, to `{}`). */
function hasBody(req: Request): boolean {
  return (
    req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined
  );
}
