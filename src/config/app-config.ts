/** The validated, typed configuration every module reads (through ConfigService). */
export const APP_ENVS = ['development', 'test', 'staging', 'production'] as const;
export type AppEnv = (typeof APP_ENVS)[number];

export interface HealthCheckUrl {
  name: string;
  url: string;
}

export interface AppConfig {
  app: {
    env: AppEnv;
    name: string;
    version: string;
  };
  http: {
    port: number;
    /** `'*'` allows any origin (refused in production); an empty list disables CORS. */
    corsOrigins: '*' | string[];
    /** Passed to Express's `trust proxy` setting as is. */
    trustProxy: boolean | number | string[];
    docsEnabled: boolean;
  };
  database: {
    /** Unset: embedded PGlite. */
    url?: string;
    poolSize: number;
    /** Directory of the embedded database, or `'memory'`. */
    dataDir: string;
    /** Run pending migrations when the data source opens (embedded mode, development, test). */
    migrateOnBoot: boolean;
  };
  redis: {
    /** Unset: in-process cache, rate-limit counters, queues and Socket.IO adapter. */
    url?: string;
    /** Prefix of every key Keel writes, so several deployments can share one Redis. */
    prefix: string;
  };
  jwt: {
    secret: string;
    accessTtlSeconds: number;
    refreshTtlSeconds: number;
    issuer: string;
    audience: string;
  };
  rateLimit: {
    max: number;
    ttlSeconds: number;
    authMax: number;
    authTtlSeconds: number;
    hourlyMax: number;
  };
  features: Record<string, boolean>;
  admin: {
    email?: string;
    password?: string;
  };
  smtp: {
    /** Unset: emails are logged and kept in the job's result (nodemailer's JSON transport). */
    url?: string;
    /** The From header of every email. */
    from: string;
  };
  metrics: {
    token?: string;
  };
  log: {
    level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
    pretty: boolean;
  };
  shutdown: {
    delayMs: number;
    timeoutMs: number;
  };
  health: {
    checkUrls: HealthCheckUrl[];
  };
  webhooks: {
    signingSecret: string;
    allowPrivate: boolean;
    /** Per delivery attempt: connect, send and read the answer. */
    timeoutMs: number;
  };
  worker: {
    /** Run the job processors in the API process (always, without Redis). */
    inProcess: boolean;
    /** The worker process's own health and metrics port. */
    port: number;
  };
  jobs: {
    /** Jobs one process runs at once. */
    concurrency: number;
    /** Attempts per job, the first included. */
    attempts: number;
    /** First retry delay; doubles with each attempt. */
    backoffMs: number;
    /** A job whose worker has not renewed its lock for this long is stalled and runs again. */
    lockMs: number;
  };
  realtime: {
    /** Events one socket may send per window; more are refused with a rate_limited ack. */
    messageRateMax: number;
    messageRateTtlSeconds: number;
  };
}
