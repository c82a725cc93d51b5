import { NestExpressApplication } from '@nestjs/platform-express';
import compression from 'compression';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import helmet from 'helmet';
import type { Logger } from 'pino';
import { pinoHttp } from 'pino-http';
import { AppConfig } from '../../config/app-config';
import { BadRequest } from '../errors/domain-errors';
import { ShutdownState } from '../lifecycle/shutdown-state';
import { MetricsService } from '../metrics/metrics.service';
import { selectApiVersion, SUPPORTED_API_VERSIONS } from './api-version';
import { resolveRequestId } from './request-id';
import { routeTemplate } from './route-template';

export const JSON_BODY_LIMIT = '100kb';

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
 * Everything Express-specific, in the order a request meets it: id, access log and metrics
 * first (so even a rejected body is logged and counted), then versioning, security headers,
 * compression, CORS and the body parsers. Swapping the adapter replaces only this file.
 */
export function configureExpress(app: NestExpressApplication, deps: PlatformDeps): void {
  const { config } = deps;
  app.set('trust proxy', config.http.trustProxy);
  app.use(requestId());
  app.use(accessLog(deps.logger));
  app.use(httpMetrics(deps.metrics));
  app.use(apiVersion());
  app.use(securityHeaders(config.app.env === 'production'));
  app.use(noStoreWhenAuthenticated());
  app.use(closeConnectionsWhenDraining(deps.shutdown));
  app.use(compression({ threshold: 1024 }));
  app.enableCors({
    origin: config.http.corsOrigins === '*' ? true : config.http.corsOrigins,
    exposedHeaders: EXPOSED_HEADERS,
    maxAge: 600,
  });
  app.useBodyParser('json', {
    limit: JSON_BODY_LIMIT,
    type: ['application/json', 'application/*+json'],
  });
  app.useBodyParser('urlencoded', { limit: JSON_BODY_LIMIT, extended: false });
}

function requestId(): RequestHandler {
  return (req, res, next) => {
    const id = resolveRequestId(req.headers['x-request-id']);
    (req as Request & { id: string }).id = id;
    res.setHeader('X-Request-Id', id);
    next();
  };
}

/** One JSON line per request, with the route template; health and metrics scrapes at debug. */
function accessLog(logger: Logger): RequestHandler {
  const summary = (req: Request, res: Response, responseTime: number) => ({
    method: req.method,
    route: routeTemplate(req),
    status: res.statusCode,
    durationMs: Math.round(responseTime * 10) / 10,
    userId: (req as Request & { user?: { id?: string } }).user?.id,
    ip: req.ip,
  });
  return pinoHttp({
    logger,
    genReqId: (req) => (req as Request & { id: string }).id,
    customAttributeKeys: { reqId: 'requestId' },
    quietReqLogger: true,
    quietResLogger: true,
    customLogLevel: (req, res, error) => {
      if (error || res.statusCode >= 500) return 'error';
      if (res.statusCode >= 400) return 'warn';
      return /^\/(health|metrics)/.test(req.url ?? '') ? 'debug' : 'info';
    },
    customSuccessMessage: () => 'request completed',
    customErrorMessage: () => 'request failed',
    customSuccessObject: (req, res, value: { responseTime: number }) =>
      summary(req as Request, res as Response, value.responseTime),
    customErrorObject: (req, res, _error, value: { responseTime: number }) =>
      summary(req as Request, res as Response, value.responseTime),
  });
}

function httpMetrics(metrics: MetricsService): RequestHandler {
  return (req, res, next) => {
    const start = process.hrtime.bigint();
    res.once('finish', () => {
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      metrics.observeHttpRequest(req.method, routeTemplate(req), res.statusCode, seconds);
    });
    next();
  };
}

function apiVersion(): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const selection = selectApiVersion(req.url, req.headers['x-api-version']);
    if (selection.kind === 'unsupported') {
      res.setHeader('X-API-Version', SUPPORTED_API_VERSIONS[0]);
      next(
        new BadRequest(
          'UNSUPPORTED_API_VERSION',
          `X-API-Version "${selection.requested}" is not supported; use one of ${SUPPORTED_API_VERSIONS.join(', ')}.`,
        ),
      );
      return;
    }
    if (selection.kind === 'rewrite') req.url = selection.url;
    res.setHeader('X-API-Version', selection.version);
    next();
  };
}

/** A strict policy for the JSON API; Swagger UI under /docs needs its own scripts and styles. */
function securityHeaders(production: boolean): RequestHandler {
  const hsts = production ? { maxAge: 31_536_000, includeSubDomains: true } : false;
  // Outside production the API is usually plain http://localhost, which upgrading would break.
  const upgradeInsecureRequests = production ? [] : null;
  const api = helmet({
    contentSecurityPolicy: {
      directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"], upgradeInsecureRequests },
    },
    frameguard: { action: 'deny' },
    strictTransportSecurity: hsts,
  });
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
  return (req, res, next) => (/^\/docs(?:\/|$)/.test(req.path) ? docs : api)(req, res, next);
}

function noStoreWhenAuthenticated(): RequestHandler {
  return (req, res, next) => {
    if (req.headers.authorization !== undefined || req.headers['x-api-key'] !== undefined) {
      res.setHeader('Cache-Control', 'no-store');
    }
    next();
  };
}

/** While shutting down, keep-alive connections close after their response. */
function closeConnectionsWhenDraining(shutdown: ShutdownState): RequestHandler {
  return (_req, res, next) => {
    if (shutdown.isShuttingDown) res.setHeader('Connection', 'close');
    next();
  };
}
