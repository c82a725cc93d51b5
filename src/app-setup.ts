import { NestApplicationOptions, ValidationPipe, VersioningType } from '@nestjs/common';
import { HttpAdapterHost, NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { SwaggerModule } from '@nestjs/swagger';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module';
import { ProblemDetailsFilter } from './common/errors/problem-details.filter';
import { validationFailed } from './common/errors/validation-errors';
import { configureExpress } from './common/http/express-platform';
import { StorableInputPipe } from './common/http/storable-input.pipe';
import { buildOpenApiDocument } from './common/http/openapi';
import { ShutdownState } from './common/lifecycle/shutdown-state';
import { PINO } from './common/logging/logging.module';
import { MetricsService } from './common/metrics/metrics.service';
import { AppConfig } from './config/app-config';
import { RealtimeIoAdapter } from './realtime/realtime-io.adapter';
import { REDIS } from './redis/redis.module';

export const NEST_OPTIONS: NestApplicationOptions = {
  bufferLogs: true,
  bodyParser: false,
  abortOnError: false,
};

/** The API application as main.ts runs it and as every e2e test boots it. */
export async function createApp(config: AppConfig): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(
    AppModule.forRoot(config),
    NEST_OPTIONS,
  );
  setupApp(app, config);
  return app;
}

/** The one place global middleware, versioning, pipes, filters and interceptors are applied. */
export function setupApp(app: NestExpressApplication, config: AppConfig): void {
  app.useLogger(app.get(Logger));
  configureExpress(app, {
    config,
    logger: app.get(PINO),
    metrics: app.get(MetricsService),
    shutdown: app.get(ShutdownState),
  });
  app.enableVersioning({ type: VersioningType.URI, defaultVersion: '1' });
  app.useGlobalPipes(
    new StorableInputPipe(),
    new ValidationPipe({
      whitelist: true,
      forbidNonWhitelisted: true,
      forbidUnknownValues: true,
      transform: true,
      exceptionFactory: validationFailed,
    }),
  );
  app.useGlobalFilters(new ProblemDetailsFilter(app.get(HttpAdapterHost)));
  app.useWebSocketAdapter(new RealtimeIoAdapter(app, config, app.get(REDIS)));
  if (config.http.docsEnabled) {
    SwaggerModule.setup('docs', app, () => buildOpenApiDocument(app, config), {
      swaggerOptions: { persistAuthorization: true },
    });
  }
}
