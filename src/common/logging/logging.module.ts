import { Global, Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { LoggerModule } from 'nestjs-pino';
import type { Logger } from 'pino';
import { AppConfig } from '../../config/app-config';
import { createLogger } from './create-logger';

/** The pino instance; the HTTP access log (common/http) and Nest's Logger both write to it. */
export const PINO = Symbol('PINO');

@Global()
@Module({
  imports: [
    LoggerModule.forRootAsync({
      providers: [
        {
          provide: PINO,
          inject: [ConfigService],
          useFactory: (config: ConfigService<AppConfig, true>) =>
            createLogger(config.get('app', { infer: true }), config.get('log', { infer: true })),
        },
      ],
      inject: [PINO],
      // Nest's Logger writes through the same pino instance. Requests are logged by common/http
      // (first thing, so even a rejected body is logged) and carry their id through the
      // logger's mixin, so nestjs-pino needs no per-request logger (useExisting) and no
      // middleware at all (forRoutes: []); its own was a second async context per request.
      useFactory: (logger: Logger) => ({ pinoHttp: { logger }, useExisting: true, forRoutes: [] }),
    }),
  ],
})
export class LoggingModule {}
