import { INestApplication, Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { Server } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppConfig } from '../../config/app-config';
import { LongLivedConnections } from './long-lived-connections';
import { ShutdownState } from './shutdown-state';

/**
 * SIGTERM/SIGINT: readiness turns 503 at once; after SHUTDOWN_DELAY_MS (load balancers catch
 * up) the server stops accepting; in-flight requests finish (cut after SHUTDOWN_TIMEOUT_MS)
 * while the API's sockets get `server.shutdown` and are closed (open, they would hold the
 * server; the worker has none); then Nest's shutdown hooks close Redis and the pool, and the
 * process exits 0 by itself. A second signal exits at once.
 */
export function enableGracefulShutdown(
  app: INestApplication,
  sockets?: LongLivedConnections,
): void {
  const logger = new Logger('Shutdown');
  const { delayMs, timeoutMs } = app
    .get(ConfigService<AppConfig, true>)
    .get('shutdown', { infer: true });
  const state = app.get(ShutdownState);
  const server = app.getHttpServer() as Server;

  const drain = async (signal: string): Promise<void> => {
    state.begin();
    logger.log(`${signal} received: readiness is 503; closing in ${delayMs} ms`);
    await sleep(delayMs);
    state.drainFor(timeoutMs);
    const force = setTimeout(() => {
      logger.warn(`requests still open after ${timeoutMs} ms; closing their connections`);
      server.closeAllConnections();
    }, timeoutMs);
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    await sockets?.closeAll();
    await closed;
    clearTimeout(force);
    await app.close();
    logger.log('shutdown complete');
  };

  // With the server, Redis and the pool closed, nothing should keep the process alive.
  const exitIfStuck = () =>
    setTimeout(() => {
      logger.warn('open handles remain after shutdown; exiting anyway');
      process.exit(0);
    }, 5000).unref();

  const onSignal = (signal: NodeJS.Signals) => {
    if (state.isShuttingDown) {
      logger.warn(`${signal} received again: exiting now`);
      process.exit(1);
    }
    drain(signal).then(exitIfStuck, (error: unknown) => {
      logger.error({ err: error }, 'shutdown failed');
      process.exit(1);
    });
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
