import type { Request, Response } from 'express';
import type { Level, Logger } from 'pino';
import { MetricsService } from '../metrics/metrics.service';
import { resolveRequestId } from './request-id';
import { routeTemplate } from './route-template';

type KeelRequest = Request & { id: string; log?: Logger; user?: { id?: string } };

const OPERATIONAL_PATH = /^\/(?:health|metrics)(?:\/|\?|$)/;

/**
 * The first thing done for every request: assigns the request id (echoed in X-Request-Id) and
 * returns it, then, when the response is done, writes the one access-log line and the HTTP
 * metrics from a single listener. Probes and scrapes log at debug.
 */
export function requestObserver(
  logger: Logger,
  metrics: MetricsService,
): (request: Request, res: Response) => string {
  // The access line is built here from non-secret fields only, so it skips the redaction pass
  // (the costliest step of logging it); everything else logged keeps it.
  const accessLog = logger.child({}, { redact: { paths: [] } });
  return (request, res) => {
    const req = request as KeelRequest;
    const start = process.hrtime.bigint();
    const id = resolveRequestId(req.headers['x-request-id']);
    req.id = id;
    // nestjs-pino binds req.log to its context; the shared logger needs no per-request child.
    req.log = logger;
    res.setHeader('X-Request-Id', id);
    res.once('close', () => {
      const route = routeTemplate(req);
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      const completed = res.writableFinished;
      const status = completed ? res.statusCode : 499;
      metrics.observeHttpRequest(req.method, route, status, seconds);
      const level = levelOf(req, res, completed);
      if (!accessLog.isLevelEnabled(level)) return;
      accessLog[level](
        {
          requestId: id,
          method: req.method,
          route,
          status,
          durationMs: Math.round(seconds * 10_000) / 10,
          userId: req.user?.id,
          ip: req.ip,
        },
        completed ? 'request completed' : 'request aborted by the client',
      );
    });
    return id;
  };
}

/** Probes and scrapes at debug whatever they answer: a 503 readiness is their message, not an error. */
function levelOf(req: Request, res: Response, completed: boolean): Level {
  if (OPERATIONAL_PATH.test(req.url)) return 'debug';
  if (res.statusCode >= 500) return 'error';
  if (res.statusCode >= 400 || !completed) return 'warn';
  return 'info';
}
