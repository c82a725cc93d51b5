import pino, { DestinationStream, Logger } from 'pino';
import { AppConfig } from '../../config/app-config';
import { requestContext } from './request-context';

/** Never written to a log, wherever they appear one level down in a logged object. */
const SECRET_KEYS = [
  'password',
  'currentPassword',
  'newPassword',
  'passwordHash',
  'token',
  'accessToken',
  'refreshToken',
  'access_token',
  'refresh_token',
  'apiKey',
  'key',
  'secret',
  'authorization',
  'cookie',
  'x-api-key',
  'set-cookie',
];

export const REDACTED_PATHS = [
  ...SECRET_KEYS.map((key) => `["${key}"]`),
  ...SECRET_KEYS.map((key) => `*["${key}"]`),
  ...SECRET_KEYS.map((key) => `*.headers["${key}"]`),
  // A failed query's bound values (hashes, emails) travel on the error a 5xx logs.
  'err.parameters',
  'err.driverError.parameters',
];

/**
 * The process's pino logger: JSON lines (pretty in development), secrets redacted, and the
 * current request's id on every line written while handling it.
 */
export function createLogger(
  app: AppConfig['app'],
  log: AppConfig['log'],
  destination?: DestinationStream,
): Logger {
  const options: pino.LoggerOptions = {
    level: log.level,
    base: { service: app.name, version: app.version },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: REDACTED_PATHS, censor: '[REDACTED]' },
    mixin: () => {
      const requestId = requestContext.getStore();
      // pino merges the log call's own fields into this object, so it must be a fresh one.
      return requestId === undefined ? {} : { requestId };
    },
    ...(log.pretty && {
      transport: {
        target: 'pino-pretty',
        options: { singleLine: true, translateTime: 'SYS:HH:MM:ss.l' },
      },
    }),
  };
  return destination ? pino(options, destination) : pino(options);
}
