import { ModuleMetadata } from '@nestjs/common';
import { NestExpressApplication } from '@nestjs/platform-express';
import { Test } from '@nestjs/testing';
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import { AppModule } from '../../src/app.module';
import { NEST_OPTIONS, setupApp } from '../../src/app-setup';
import { AppConfig } from '../../src/config/app-config';
import { loadConfig } from '../../src/config/load-config';
import { redisUrl } from './services';
import { assertTestDatabaseName, createTestDatabase, TestDatabase } from './test-database';

export interface TestApp {
  app: NestExpressApplication;
  http: Server;
  config: AppConfig;
  database: TestDatabase;
  close(): Promise<void>;
}

export interface TestAppOptions {
  /** Environment variables on top of the test defaults. */
  env?: Record<string, string>;
  /** Extra modules (test-only controllers) mounted beside the real ones. */
  imports?: ModuleMetadata['imports'];
  /** Use Redis when it answers (default true); false runs the in-process wiring. */
  redis?: boolean;
  /**
   * Another app's `database.url`, for a second instance on the same database (multi-instance
   * tests): it is neither created nor dropped here, its owner does both. PostgreSQL only.
   */
  databaseUrl?: string;
}

/** KEEL_TEST_MODE=embedded runs a suite on the embedded wiring (PGlite, in-process stores). */
const EMBEDDED = process.env.KEEL_TEST_MODE === 'embedded';

/**
 * The real application, through the same app-setup as main.ts, on a fresh database of its own
 * (real PostgreSQL and Redis when they answer; required in CI). Its Redis keys get a prefix of
 * their own, and rate limits are high unless a suite sets them (APP_ENV=test keeps them on).
 */
export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const database = options.databaseUrl
    ? sharedDatabase(options.databaseUrl)
    : EMBEDDED
      ? { drop: () => Promise.resolve() }
      : await createTestDatabase();
  const redis = options.redis === false || EMBEDDED ? undefined : await redisUrl();
  const config = loadConfig({
    APP_ENV: 'test',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    REDIS_PREFIX: `test:${randomUUID()}:`,
    RATE_LIMIT_MAX: '100000',
    RATE_LIMIT_AUTH_MAX: '100000',
    RATE_LIMIT_HOURLY_MAX: '100000',
    ...(database.url && { DATABASE_URL: database.url }),
    ...(redis && { REDIS_URL: redis }),
    ...options.env,
  });
  try {
    const moduleRef = await Test.createTestingModule({
      imports: [AppModule.forRoot(config), ...(options.imports ?? [])],
    }).compile();
    const app = moduleRef.createNestApplication<NestExpressApplication>(NEST_OPTIONS);
    setupApp(app, config);
    await app.init();
    return {
      app,
      http: app.getHttpServer(),
      config,
      database,
      close: async () => {
        await app.close();
        await database.drop();
      },
    };
  } catch (error) {
    await database.drop();
    throw error;
  }
}

/** A database another app created and will drop; a test only ever shares a test database. */
function sharedDatabase(url: string): TestDatabase {
  assertTestDatabaseName(decodeURIComponent(new URL(url).pathname.slice(1)));
  return { url, drop: () => Promise.resolve() };
}
