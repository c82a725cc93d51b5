import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigValidationError, loadConfig } from './load-config';
import { parseDuration } from './duration';

const STRONG_SECRET = 'b3f1c9a8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1';
const PRODUCTION = {
  APP_ENV: 'production',
  DATABASE_URL: 'postgres://keel@db:5432/keel',
  REDIS_URL: 'redis://redis:6379',
  JWT_SECRET: STRONG_SECRET,
  WEBHOOK_SIGNING_SECRET: `${STRONG_SECRET}-webhooks`,
  CORS_ORIGINS: 'https://app.example.com',
};

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigValidationError) return error.problems;
    throw error;
  }
  throw new Error('expected the configuration to be refused');
}

describe(loadConfig.name, () => {
  it('runs a fresh machine in embedded development mode with documented defaults', () => {
    const config = loadConfig({});
    expect(config.app.env).toBe('development');
    expect(config.http).toMatchObject({
      port: 3000,
      corsOrigins: '*',
      trustProxy: false,
      docsEnabled: true,
    });
    expect(config.database).toMatchObject({
      url: undefined,
      poolSize: 10,
      dataDir: './.data',
      migrateOnBoot: true,
    });
    expect(config.redis.url).toBeUndefined();
    expect(config.jwt).toMatchObject({ accessTtlSeconds: 900, refreshTtlSeconds: 604_800 });
    expect(config.rateLimit).toEqual({
      max: 100,
      ttlSeconds: 60,
      authMax: 5,
      authTtlSeconds: 60,
      hourlyMax: 5000,
    });
    expect(config.features).toEqual({ registration: true, v2_api: true, webhooks: true });
    expect(config.log).toEqual({ level: 'debug', pretty: true });
    expect(config.shutdown).toEqual({ delayMs: 0, timeoutMs: 25_000 });
  });

  it('uses per-environment defaults: test keeps PGlite in memory, production hides the docs', () => {
    expect(loadConfig({ APP_ENV: 'test' }).database.dataDir).toBe('memory');
    const production = loadConfig(PRODUCTION);
    expect(production.http.docsEnabled).toBe(false);
    expect(production.log).toEqual({ level: 'info', pretty: false });
    expect(production.shutdown.delayMs).toBe(5000);
    expect(production.database.migrateOnBoot).toBe(false);
    expect(loadConfig({ ...PRODUCTION, DOCS_ENABLED: 'true' }).http.docsEnabled).toBe(true);
  });

  it('migrates at boot in embedded mode and in development or test, never against a production database', () => {
    const staging = {
      APP_ENV: 'staging',
      JWT_SECRET: STRONG_SECRET,
      WEBHOOK_SIGNING_SECRET: `${STRONG_SECRET}-w`,
    };
    expect(loadConfig(staging).database.migrateOnBoot).toBe(true);
    expect(
      loadConfig({ ...staging, DATABASE_URL: 'postgres://db/keel' }).database.migrateOnBoot,
    ).toBe(false);
    expect(
      loadConfig({ APP_ENV: 'test', DATABASE_URL: 'postgres://db/keel_test' }).database
        .migrateOnBoot,
    ).toBe(true);
  });

  it('refuses production without services, with a weak or placeholder secret, or open CORS; one line each', () => {
    const problems = problemsOf({
      APP_ENV: 'production',
      JWT_SECRET: 'changeme',
      CORS_ORIGINS: '*',
    });
    expect(problems).toEqual([
      'DATABASE_URL: required in production (embedded PGlite is for development and tests)',
      'REDIS_URL: required in production (queues, cache and rate limits must be shared)',
      'JWT_SECRET: is a known placeholder; generate one with: openssl rand -base64 48',
      'WEBHOOK_SIGNING_SECRET: required in production',
      'CORS_ORIGINS: "*" is not allowed in production; list the allowed origins',
    ]);
    expect(problemsOf({ ...PRODUCTION, JWT_SECRET: 'short-but-not-a-placeholder' })).toEqual([
      'JWT_SECRET: must be at least 32 bytes in production',
    ]);
    expect(problemsOf({ ...PRODUCTION, JWT_SECRET: undefined as unknown as string })).toEqual([
      'JWT_SECRET: required in production',
    ]);
    expect(
      problemsOf({ ...PRODUCTION, JWT_SECRET: 'keel-development-jwt-secret-not-for-production' }),
    ).toHaveLength(1);
  });

  it('reports what production lacks in the same boot as a malformed variable', () => {
    expect(problemsOf({ APP_ENV: 'production', PORT: 'eighty', METRICS_TOKEN: 'short' })).toEqual(
      expect.arrayContaining([
        'PORT: must be a number (got "eighty")',
        'DATABASE_URL: required in production (embedded PGlite is for development and tests)',
        'REDIS_URL: required in production (queues, cache and rate limits must be shared)',
        'JWT_SECRET: required in production',
        'WEBHOOK_SIGNING_SECRET: required in production',
      ]),
    );
  });

  it('refuses staging without its own signing keys: the development ones are public', () => {
    expect(problemsOf({ APP_ENV: 'staging', DATABASE_URL: 'postgres://db/keel_staging' })).toEqual([
      'JWT_SECRET: required in staging',
      'WEBHOOK_SIGNING_SECRET: required in staging',
    ]);
    expect(
      loadConfig({ APP_ENV: 'development', DATABASE_URL: 'postgres://db/keel' }).jwt.secret,
    ).toBe('keel-development-jwt-secret-not-for-production');
  });

  it('reports every malformed variable at once, echoing values but never secrets', () => {
    const problems = problemsOf({
      PORT: 'eighty',
      DB_POOL_SIZE: '0',
      LOG_LEVEL: 'loud',
      DATABASE_URL: 'mysql://user:hunter2@db/keel',
      JWT_ACCESS_TTL: 'forever',
      FEATURE_REGISTRATION: 'maybe',
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        'FEATURE_REGISTRATION: must be true or false (got "maybe")',
        'PORT: must be a number (got "eighty")',
        'DB_POOL_SIZE: must be at least 1 (got "0")',
        'LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent (got "loud")',
        'DATABASE_URL: must be a postgres:// URL',
        'JWT_ACCESS_TTL: must be a duration such as 900, 15m, 12h or 7d (got "forever")',
      ]),
    );
    expect(problems.join('\n')).not.toContain('hunter2');
  });

  it('reads a secret from <NAME>_FILE, trimming the trailing newline', () => {
    const dir = mkdtempSync(join(tmpdir(), 'keel-config-'));
    writeFileSync(join(dir, 'jwt'), `${STRONG_SECRET}\n`);
    const config = loadConfig({ ...PRODUCTION, JWT_SECRET: '', JWT_SECRET_FILE: join(dir, 'jwt') });
    expect(config.jwt.secret).toBe(STRONG_SECRET);
    expect(problemsOf({ JWT_SECRET_FILE: join(dir, 'missing') })).toEqual([
      `JWT_SECRET_FILE: cannot read ${join(dir, 'missing')} (ENOENT)`,
    ]);
    expect(problemsOf({ JWT_SECRET: 'a', JWT_SECRET_FILE: join(dir, 'jwt') })).toEqual([
      'JWT_SECRET: set either JWT_SECRET or JWT_SECRET_FILE, not both',
    ]);
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig({ PORT: '', DATABASE_URL: ' ' }).http.port).toBe(3000);
  });

  it('parses feature flags, CORS origins, proxy trust and health check URLs', () => {
    const config = loadConfig({
      FEATURE_V2_API: 'false',
      FEATURE_NEW_SEARCH: '1',
      CORS_ORIGINS: 'https://a.example.com, http://localhost:5173',
      TRUST_PROXY: '10.0.0.0/8,loopback',
      HEALTH_CHECK_URLS: 'billing=https://billing.internal/health,search=http://search:9200',
    });
    expect(config.features).toEqual({
      registration: true,
      v2_api: false,
      webhooks: true,
      new_search: true,
    });
    expect(config.http.corsOrigins).toEqual(['https://a.example.com', 'http://localhost:5173']);
    expect(config.http.trustProxy).toEqual(['10.0.0.0/8', 'loopback']);
    expect(config.health.checkUrls).toEqual([
      { name: 'billing', url: 'https://billing.internal/health' },
      { name: 'search', url: 'http://search:9200' },
    ]);
    expect(loadConfig({ TRUST_PROXY: '2' }).http.trustProxy).toBe(2);
    expect(loadConfig({ TRUST_PROXY: 'true' }).http.trustProxy).toBe(true);
  });

  it('refuses malformed origins, proxies, health URLs and half an admin', () => {
    expect(
      problemsOf({
        CORS_ORIGINS: 'https://a.example.com/path',
        TRUST_PROXY: '10.0.0.0/99',
        HEALTH_CHECK_URLS: 'nourl,database=http://x',
        ADMIN_EMAIL: 'root@example.com',
      }),
    ).toEqual([
      'ADMIN_EMAIL and ADMIN_PASSWORD: set both or neither',
      'CORS_ORIGINS: "https://a.example.com/path" is not an origin such as https://app.example.com',
      'TRUST_PROXY: "10.0.0.0/99" is not true, false, a hop count, an address, a CIDR or loopback/linklocal/uniquelocal',
      'HEALTH_CHECK_URLS: "nourl" is not name=http(s)://url',
      'HEALTH_CHECK_URLS: "database" is the name of a built-in check; choose another',
    ]);
  });
});

describe(parseDuration.name, () => {
  it.each([
    ['900', 900],
    ['30s', 30],
    ['15m', 900],
    ['12h', 43_200],
    ['7d', 604_800],
  ])('reads %s as %d seconds', (value, seconds) => {
    expect(parseDuration(value)).toBe(seconds);
  });

  it('rejects what is not a duration', () => {
    expect(parseDuration('15 minutes')).toBeUndefined();
    expect(parseDuration('-5m')).toBeUndefined();
  });
});
