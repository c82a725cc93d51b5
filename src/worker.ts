import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { NEST_OPTIONS, setupApp } from './app-setup';
import { enableGracefulShutdown } from './common/lifecycle/graceful-shutdown';
import { startProcess } from './common/lifecycle/start-process';
import { serveOnly } from './common/http/express-platform';
import { ConfigValidationError, loadConfig } from './config/load-config';
import { readEnvironment } from './config/read-environment';
import { WorkerModule } from './worker.module';

/** `npm run start:worker`: runs jobs; its port serves only /health/* and /metrics. */
async function bootstrap(): Promise<void> {
  const loaded = loadConfig(readEnvironment());
  if (!loaded.redis.url) {
    throw new ConfigValidationError([
      'REDIS_URL: the worker process needs Redis (without it, the API runs jobs itself)',
    ]);
  }
  // No load balancer routes to a worker: no docs, and no delay before it stops taking jobs.
  const config = {
    ...loaded,
    http: { ...loaded.http, docsEnabled: false },
    shutdown: { ...loaded.shutdown, delayMs: 0 },
  };
  const app = await NestFactory.create<NestExpressApplication>(
    WorkerModule.forRoot(config),
    NEST_OPTIONS,
  );
  setupApp(app, config);
  serveOnly(app, /^\/(?:health|metrics)(?:\/|$)/);
  enableGracefulShutdown(app);
  await app.listen(config.worker.port);
  new Logger('Bootstrap').log(
    `Keel worker ${config.app.version} (${config.app.env}): ${config.jobs.concurrency} jobs at a time; health and metrics on port ${config.worker.port}`,
  );
}

startProcess(bootstrap);
