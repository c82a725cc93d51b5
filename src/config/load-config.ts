import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { z } from 'zod';
import { version } from '../../package.json';
import { APP_ENVS, AppConfig, AppEnv, HealthCheckUrl } from './app-config';
import { parseDuration } from './duration';

type Env = Record<string, string | undefined>;

/** Variables that may instead be read from a file named by `<NAME>_FILE` (Docker/Kubernetes secrets). */
export const SECRET_VARIABLES = [
  'DATABASE_URL',
  'REDIS_URL',
  'JWT_SECRET',
  'ADMIN_PASSWORD',
  'SMTP_URL',
  'METRICS_TOKEN',
  'WEBHOOK_SIGNING_SECRET',
] as const;

/** Secrets that are fine on a laptop (development, test) and refused in staging and production. */
const DEVELOPMENT_JWT_SECRET = 'keel-development-jwt-secret-not-for-production';
const DEVELOPMENT_WEBHOOK_SECRET = 'keel-development-webhook-secret-not-for-production';
const PLACEHOLDER_SECRETS = new Set([
  DEVELOPMENT_JWT_SECRET,
  DEVELOPMENT_WEBHOOK_SECRET,
  'changeme',
  'change-me',
  'change_me',
  'changeit',
  'secret',
  'password',
  'jwt-secret',
  'jwt_secret',
  'your-secret',
  'your_secret',
  'your-jwt-secret',
  'supersecret',
  'default',
  'test',
  'example',
]);
const MIN_SECRET_BYTES = 32;

/** Flags every deployment knows, with their defaults; any other FEATURE_<NAME> is added as given. */
const DEFAULT_FEATURES: Record<string, boolean> = {
  registration: true,
  v2_api: true,
  webhooks: true,
};

/** Defaults that differ by environment. */
const ENV_DEFAULTS: Record<
  AppEnv,
  {
    logLevel: AppConfig['log']['level'];
    docs: boolean;
    cors: string;
    dataDir: string;
    shutdownDelayMs: number;
  }
> = {
  development: { logLevel: 'debug', docs: true, cors: '*', dataDir: './.data', shutdownDelayMs: 0 },
  test: { logLevel: 'warn', docs: true, cors: '', dataDir: 'memory', shutdownDelayMs: 0 },
  staging: { logLevel: 'info', docs: false, cors: '', dataDir: './.data', shutdownDelayMs: 5000 },
  production: {
    logLevel: 'info',
    docs: false,
    cors: '',
    dataDir: './.data',
    shutdownDelayMs: 5000,
  },
};

/** Thrown when the environment does not describe a runnable service; one message per problem. */
export class ConfigValidationError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigValidationError';
  }
}

const bool = z
  .enum(['true', 'false', '1', '0'], { error: 'must be true or false' })
  .transform((v) => v === 'true' || v === '1');
const int = (min: number, max: number) =>
  z.coerce
    .number({ error: 'must be a number' })
    .int({ error: 'must be a whole number' })
    .min(min, { error: `must be at least ${min}` })
    .max(max, { error: `must be at most ${max}` });
const duration = z.string().transform((value, ctx) => {
  const seconds = parseDuration(value);
  if (seconds === undefined || seconds <= 0) {
    ctx.addIssue({ code: 'custom', message: 'must be a duration such as 900, 15m, 12h or 7d' });
    return z.NEVER;
  }
  return seconds;
});
const postgresUrl = z.string().refine((v) => /^postgres(ql)?:\/\/.+/.test(v) && URL.canParse(v), {
  error: 'must be a postgres:// URL',
});
const redisUrl = z
  .string()
  .refine((v) => /^rediss?:\/\/.+/.test(v) && URL.canParse(v), { error: 'must be a redis:// URL' });
const optionalEmail = z.email({ error: 'must be an email address' }).optional();

const schema = z.object({
  APP_ENV: z.enum(APP_ENVS, { error: `must be one of ${APP_ENVS.join(', ')}` }),
  PORT: int(1, 65535).default(3000),
  DATABASE_URL: postgresUrl.optional(),
  DB_POOL_SIZE: int(1, 200).default(10),
  DATA_DIR: z.string().min(1).optional(),
  REDIS_URL: redisUrl.optional(),
  REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9:_.-]{1,64}$/, { error: 'use letters, digits and : _ . - (at most 64)' })
    .default('keel:'),
  JWT_SECRET: z.string().optional(),
  JWT_ACCESS_TTL: duration.default(15 * 60),
  JWT_REFRESH_TTL: duration.default(7 * 24 * 3600),
  JWT_ISSUER: z.string().min(1).default('keel'),
  JWT_AUDIENCE: z.string().min(1).default('keel-api'),
  CORS_ORIGINS: z.string().optional(),
  TRUST_PROXY: z.string().default('false'),
  RATE_LIMIT_MAX: int(1, 1_000_000).default(100),
  RATE_LIMIT_TTL_S: int(1, 86_400).default(60),
  RATE_LIMIT_AUTH_MAX: int(1, 1_000_000).default(5),
  RATE_LIMIT_AUTH_TTL_S: int(1, 86_400).default(60),
  RATE_LIMIT_HOURLY_MAX: int(1, 100_000_000).default(5000),
  ADMIN_EMAIL: optionalEmail,
  ADMIN_PASSWORD: z
    .string()
    .min(8, { error: 'must be 8 to 128 characters' })
    .max(128, { error: 'must be 8 to 128 characters' })
    .optional(),
  SMTP_URL: z
    .string()
    .refine((v) => /^smtps?:\/\/.+/.test(v) && URL.canParse(v), { error: 'must be an smtp:// URL' })
    .optional(),
  MAIL_FROM: z.string().min(3).max(200).default('Keel <no-reply@keel.local>'),
  METRICS_TOKEN: z.string().min(16, { error: 'must be at least 16 characters' }).optional(),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
      error: 'must be one of fatal, error, warn, info, debug, trace, silent',
    })
    .optional(),
  SHUTDOWN_DELAY_MS: int(0, 600_000).optional(),
  SHUTDOWN_TIMEOUT_MS: int(0, 600_000).default(25_000),
  DOCS_ENABLED: bool.optional(),
  HEALTH_CHECK_URLS: z.string().default(''),
  WEBHOOK_SIGNING_SECRET: z.string().optional(),
  WEBHOOK_ALLOW_PRIVATE: bool.default(false),
  WEBHOOK_TIMEOUT_MS: int(100, 60_000).default(10_000),
  WORKER_IN_PROCESS: bool.optional(),
  WORKER_PORT: int(1, 65535).default(3001),
  JOB_CONCURRENCY: int(1, 1000).default(20),
  JOB_ATTEMPTS: int(1, 20).default(3),
  JOB_BACKOFF_MS: int(0, 3_600_000).default(1000),
  JOB_LOCK_MS: int(1000, 3_600_000).default(30_000),
  WS_MESSAGE_RATE_MAX: int(1, 10_000).default(20),
  WS_MESSAGE_RATE_TTL_S: int(1, 3600).default(10),
});

/**
 * Validates the environment once and returns the typed configuration.
 * Collects every problem before failing, so one boot shows them all.
 */
export function loadConfig(rawEnv: Env): AppConfig {
  const problems: string[] = [];
  const env = resolveSecretFiles(withoutBlanks(rawEnv), problems);
  env.APP_ENV ??= 'development';

  const parsed = schema.safeParse(env);
  const features = parseFeatures(env, problems);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const name = issue.path.join('.');
      problems.push(`${name}: ${issue.message}${describeValue(name, env[name])}`);
    }
  }
  // From the raw values, so that a malformed variable elsewhere does not hide these.
  if ((env.ADMIN_EMAIL === undefined) !== (env.ADMIN_PASSWORD === undefined)) {
    problems.push('ADMIN_EMAIL and ADMIN_PASSWORD: set both or neither');
  }
  const production = env.APP_ENV === 'production';
  if (production) {
    if (!env.DATABASE_URL)
      problems.push(
        'DATABASE_URL: required in production (embedded PGlite is for development and tests)',
      );
    if (!env.REDIS_URL)
      problems.push(
        'REDIS_URL: required in production (queues, cache and rate limits must be shared)',
      );
  }
  // Anything deployed signs with its own keys: the development ones are in this repository.
  if (env.APP_ENV === 'production' || env.APP_ENV === 'staging') {
    problems.push(...secretProblems('JWT_SECRET', env.JWT_SECRET, env.APP_ENV));
    problems.push(
      ...secretProblems('WEBHOOK_SIGNING_SECRET', env.WEBHOOK_SIGNING_SECRET, env.APP_ENV),
    );
  }
  if (!parsed.success) throw new ConfigValidationError(problems);
  const e = parsed.data;
  const defaults = ENV_DEFAULTS[e.APP_ENV];

  const corsOrigins = parseCorsOrigins(e.CORS_ORIGINS ?? defaults.cors, problems);
  const trustProxy = parseTrustProxy(e.TRUST_PROXY, problems);
  const checkUrls = parseHealthCheckUrls(e.HEALTH_CHECK_URLS, problems);
  if (production && corsOrigins === '*') {
    problems.push('CORS_ORIGINS: "*" is not allowed in production; list the allowed origins');
  }
  if (problems.length > 0) throw new ConfigValidationError(problems);

  const embedded = e.DATABASE_URL === undefined;
  return {
    app: { env: e.APP_ENV, name: 'keel', version },
    http: {
      port: e.PORT,
      corsOrigins,
      trustProxy,
      docsEnabled: e.DOCS_ENABLED ?? defaults.docs,
    },
    database: {
      url: e.DATABASE_URL,
      poolSize: e.DB_POOL_SIZE,
      dataDir: e.DATA_DIR ?? defaults.dataDir,
      migrateOnBoot: embedded || e.APP_ENV === 'development' || e.APP_ENV === 'test',
    },
    redis: { url: e.REDIS_URL, prefix: e.REDIS_PREFIX },
    jwt: {
      secret: e.JWT_SECRET ?? DEVELOPMENT_JWT_SECRET,
      accessTtlSeconds: e.JWT_ACCESS_TTL,
      refreshTtlSeconds: e.JWT_REFRESH_TTL,
      issuer: e.JWT_ISSUER,
      audience: e.JWT_AUDIENCE,
    },
    rateLimit: {
      max: e.RATE_LIMIT_MAX,
      ttlSeconds: e.RATE_LIMIT_TTL_S,
      authMax: e.RATE_LIMIT_AUTH_MAX,
      authTtlSeconds: e.RATE_LIMIT_AUTH_TTL_S,
      hourlyMax: e.RATE_LIMIT_HOURLY_MAX,
    },
    features,
    admin: { email: e.ADMIN_EMAIL?.toLowerCase(), password: e.ADMIN_PASSWORD },
    smtp: { url: e.SMTP_URL, from: e.MAIL_FROM },
    metrics: { token: e.METRICS_TOKEN },
    log: { level: e.LOG_LEVEL ?? defaults.logLevel, pretty: e.APP_ENV === 'development' },
    shutdown: {
      delayMs: e.SHUTDOWN_DELAY_MS ?? defaults.shutdownDelayMs,
      timeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    },
    health: { checkUrls },
    webhooks: {
      signingSecret: e.WEBHOOK_SIGNING_SECRET ?? DEVELOPMENT_WEBHOOK_SECRET,
      allowPrivate: e.WEBHOOK_ALLOW_PRIVATE,
      timeoutMs: e.WEBHOOK_TIMEOUT_MS,
    },
    // Without Redis there is no queue to share, so the API always runs the jobs itself.
    worker: {
      inProcess: e.REDIS_URL === undefined || (e.WORKER_IN_PROCESS ?? false),
      port: e.WORKER_PORT,
    },
    jobs: {
      concurrency: e.JOB_CONCURRENCY,
      attempts: e.JOB_ATTEMPTS,
      backoffMs: e.JOB_BACKOFF_MS,
      lockMs: e.JOB_LOCK_MS,
    },
    realtime: {
      messageRateMax: e.WS_MESSAGE_RATE_MAX,
      messageRateTtlSeconds: e.WS_MESSAGE_RATE_TTL_S,
    },
  };
}

/** Empty variables count as unset, as in most process managers' env files. */
function withoutBlanks(env: Env): Env {
  const result: Env = {};
  for (const [key, value] of Object.entries(env)) {
    if (value !== undefined && value.trim() !== '') result[key] = value;
  }
  return result;
}

function resolveSecretFiles(env: Env, problems: string[]): Env {
  const result = { ...env };
  for (const name of SECRET_VARIABLES) {
    const file = env[`${name}_FILE`];
    if (file === undefined) continue;
    if (env[name] !== undefined) {
      problems.push(`${name}: set either ${name} or ${name}_FILE, not both`);
      continue;
    }
    try {
      result[name] = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
      problems.push(`${name}_FILE: cannot read ${file} (${code})`);
    }
  }
  return result;
}

function parseFeatures(env: Env, problems: string[]): Record<string, boolean> {
  const features = { ...DEFAULT_FEATURES };
  for (const [key, value] of Object.entries(env)) {
    if (!key.startsWith('FEATURE_') || value === undefined) continue;
    const name = key.slice('FEATURE_'.length).toLowerCase();
    if (!/^[a-z0-9_]+$/.test(name)) {
      problems.push(`${key}: feature names use letters, digits and underscores`);
    } else if (!['true', 'false', '1', '0'].includes(value)) {
      problems.push(`${key}: must be true or false (got "${value}")`);
    } else {
      features[name] = value === 'true' || value === '1';
    }
  }
  return features;
}

function parseCorsOrigins(value: string, problems: string[]): '*' | string[] {
  if (value.trim() === '*') return '*';
  const origins = splitList(value);
  for (const origin of origins) {
    if (!URL.canParse(origin) || new URL(origin).origin !== origin) {
      problems.push(`CORS_ORIGINS: "${origin}" is not an origin such as https://app.example.com`);
    }
  }
  return origins;
}

const TRUST_PROXY_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

function parseTrustProxy(value: string, problems: string[]): boolean | number | string[] {
  if (value === 'false') return false;
  if (value === 'true') return true;
  if (/^\d+$/.test(value)) return Number(value);
  const entries = splitList(value);
  for (const entry of entries) {
    const [address, bits, ...rest] = entry.split('/');
    const family = isIP(address);
    const validBits =
      bits === undefined || (/^\d+$/.test(bits) && Number(bits) <= (family === 6 ? 128 : 32));
    if (!TRUST_PROXY_NAMES.has(entry) && (family === 0 || !validBits || rest.length > 0)) {
      problems.push(
        `TRUST_PROXY: "${entry}" is not true, false, a hop count, an address, a CIDR or loopback/linklocal/uniquelocal`,
      );
    }
  }
  return entries;
}

const RESERVED_CHECK_NAMES = ['database', 'redis', 'queue', 'smtp', 'shutdown'];

function parseHealthCheckUrls(value: string, problems: string[]): HealthCheckUrl[] {
  return splitList(value).flatMap((entry) => {
    const separator = entry.indexOf('=');
    const name = entry.slice(0, separator);
    const url = entry.slice(separator + 1);
    if (
      separator < 1 ||
      !/^[a-z0-9_-]+$/i.test(name) ||
      !/^https?:\/\//.test(url) ||
      !URL.canParse(url)
    ) {
      problems.push(`HEALTH_CHECK_URLS: "${entry}" is not name=http(s)://url`);
      return [];
    }
    if (RESERVED_CHECK_NAMES.includes(name)) {
      problems.push(`HEALTH_CHECK_URLS: "${name}" is the name of a built-in check; choose another`);
      return [];
    }
    return [{ name, url }];
  });
}

function secretProblems(name: string, value: string | undefined, env: AppEnv): string[] {
  if (value === undefined) return [`${name}: required in ${env}`];
  if (PLACEHOLDER_SECRETS.has(value.toLowerCase())) {
    return [`${name}: is a known placeholder; generate one with: openssl rand -base64 48`];
  }
  if (Buffer.byteLength(value) < MIN_SECRET_BYTES) {
    return [`${name}: must be at least ${MIN_SECRET_BYTES} bytes in ${env}`];
  }
  return [];
}

function splitList(value: string): string[] {
  return value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/** Echo the offending value, except for secrets. */
function describeValue(name: string, value: string | undefined): string {
  if (value === undefined || (SECRET_VARIABLES as readonly string[]).includes(name)) return '';
  return ` (got "${value.length > 60 ? `${value.slice(0, 60)}…` : value}")`;
}
