import { NestExpressApplication } from '@nestjs/platform-express';
import compression from 'compression';
import { json, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import helmet from 'helmet';
import type { Server } from 'node:http';
import type { Logger } from 'pino';
import { AppConfig } from '../../config/app-config';
import { BadRequest, NotFound } from '../errors/domain-errors';
import { ShutdownState } from '../lifecycle/shutdown-state';
import { MetricsService } from '../metrics/metrics.service';
import { selectApiVersion, SUPPORTED_API_VERSIONS } from './api-version';
import { observeRequests } from './request-observer';

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
 * Everything Express-specific, in the order a request meets it: id, access log and metrics
 * first (so even a rejected body is logged and counted), then versioning, security headers,
 * compression, CORS and the body parsers. Swapping the adapter replaces only this file.
 */
export function configureExpress(app: NestExpressApplication, deps: PlatformDeps): void {
  const { config } = deps;
  limitSlowClients(app.getHttpServer());
  app.set('trust proxy', config.http.trustProxy);
  app.use(observeRequests(deps.logger, deps.metrics));
  app.use(apiVersion());
  app.use(securityHeaders(config.app.env === 'production'));
  app.use(noStoreWhenAuthenticated());
  app.use(closeConnectionsWhenDraining(deps.shutdown));
  app.use(compressWhenAccepted());
  app.enableCors({
    origin: config.http.corsOrigins === '*' ? true : config.http.corsOrigins,
    exposedHeaders: EXPOSED_HEADERS,
    maxAge: 600,
  });
  // Runs first on its paths; the general parser then sees an already-parsed body and skips it.
  const webhookJson = json({ limit: WEBHOOK_BODY_LIMIT, type: JSON_TYPES });
  app.use((req: Request, res: Response, next: NextFunction) =>
    /^\/v\d+\/webhooks\//.test(req.path) ? webhookJson(req, res, next) : next(),
  );
  app.useBodyParser('json', { limit: JSON_BODY_LIMIT, type: JSON_TYPES });
  app.useBodyParser('urlencoded', { limit: JSON_BODY_LIMIT, extended: false });
}

/**
 * Node's defaults let a client take 60 s to send headers and 300 s to send a request (slowloris);
 * requests here are small, so a client gets 15 s for its headers and 30 s in all.
 */
function limitSlowClients(server: Server): void {
  server.headersTimeout = 15_000;
  server.requestTimeout = 30_000;
}

/** Only the paths `allowed` matches are served (the worker's port: health and metrics); others 404. */
export function serveOnly(app: NestExpressApplication, allowed: RegExp): void {
  app.use((req: Request, _res: Response, next: NextFunction) =>
    allowed.test(req.path) ? next() : next(new NotFound('Route')),
  );
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
  // JSON is not a document: the headers OWASP's REST guidance asks for, and no HTML-only ones.
  const api = helmet({
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

/** Clients that accept no encoding skip the compression machinery altogether. */
function compressWhenAccepted(): RequestHandler {
  const compress = compression({ threshold: 1024 });
  return (req, res, next) =>
    req.headers['accept-encoding'] === undefined ? next() : compress(req, res, next);
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
