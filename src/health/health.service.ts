import { Inject, Injectable, Optional } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import {
  HealthCheckResult,
  HealthCheckService,
  HealthIndicatorService,
  TypeOrmHealthIndicator,
} from '@nestjs/terminus';
import type Redis from 'ioredis';
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { ShutdownState } from '../common/lifecycle/shutdown-state';
import { AppConfig, HealthCheckUrl } from '../config/app-config';
import { JobQueue } from '../jobs/job-queue';
import { REDIS } from '../redis/redis.module';

const DEPENDENCY_TIMEOUT_MS = 2000;
const EXTERNAL_TIMEOUT_MS = 3000;
/** External checks are cached so frequent probes cannot stampede other teams' services. */
const EXTERNAL_CACHE_MS = 10_000;

export type HealthStatus = 'healthy' | 'degraded' | 'unhealthy';

export interface CheckSummary {
  status: 'up' | 'down';
  latencyMs: number;
}

export interface HealthReport {
  status: HealthStatus;
  version: string;
  uptimeSeconds: number;
  timestamp: string;
  checks: Record<string, CheckSummary>;
}

@Injectable()
export class HealthService {
  private readonly version: string;
  private readonly externalUrls: HealthCheckUrl[];
  private readonly smtpUrl?: string;

  constructor(
    private readonly terminus: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly typeorm: TypeOrmHealthIndicator,
    private readonly shutdown: ShutdownState,
    private readonly queue: JobQueue,
    config: ConfigService<AppConfig, true>,
    @Optional() @Inject(REDIS) private readonly redis?: Redis,
  ) {
    this.version = config.get('app', { infer: true }).version;
    this.externalUrls = config.get('health', { infer: true }).checkUrls;
    this.smtpUrl = config.get('smtp', { infer: true }).url;
  }

  /** Terminus readiness: not shutting down, database and (when configured) Redis answer. */
  readiness(): Promise<HealthCheckResult> {
    return this.terminus.check([
      () =>
        this.shutdown.isShuttingDown
          ? this.indicators.check('shutdown').down({ message: 'shutting down' })
          : this.indicators.check('shutdown').up(),
      ...this.dependencyChecks(),
    ]);
  }

  /** Every check at once: the database decides unhealthy; anything else only degrades. */
  async report(): Promise<HealthReport> {
    const results = await Promise.all([
      ...this.dependencyChecks(),
      this.queueCheck(),
      ...(this.smtpUrl === undefined ? [] : [this.smtpCheck(this.smtpUrl)]),
      ...this.externalUrls.map((target) => this.externalCheck(target)),
    ]);
    const checks: Record<string, CheckSummary> = {};
    for (const result of results) {
      for (const [name, detail] of Object.entries(result)) {
        checks[name] = {
          status: detail.status === 'up' ? 'up' : 'down',
          latencyMs: typeof detail.responseTime === 'number' ? detail.responseTime : 0,
        };
      }
    }
    const down = Object.entries(checks).filter(([, check]) => check.status === 'down');
    const status: HealthStatus = down.some(([name]) => name === 'database')
      ? 'unhealthy'
      : down.length > 0
        ? 'degraded'
        : 'healthy';
    return {
      status,
      version: this.version,
      uptimeSeconds: Math.round(process.uptime()),
      timestamp: new Date().toISOString(),
      checks,
    };
  }

  private dependencyChecks() {
    const database = this.typeorm.pingCheck('database', { timeout: DEPENDENCY_TIMEOUT_MS });
    if (!this.redis) return [database];
    const redis = this.redis;
    const redisCheck = this.indicators
      .check('redis')
      .attempt(async () => {
        await redis.ping();
      })
      .withTimeout(DEPENDENCY_TIMEOUT_MS);
    return [database, redisCheck];
  }

  /** The job queue answers (Bull on Redis, or the in-process queue); it only ever degrades. */
  private queueCheck() {
    return this.indicators
      .check('queue')
      .attempt(async () => {
        await this.queue.counts();
      })
      .withTimeout(DEPENDENCY_TIMEOUT_MS);
  }

  /**
   * The mail server of SMTP_URL greets (`220`, after TLS for smtps://); it only ever degrades.
   * Cached like external checks: probes must not open a mail session each.
   */
  private smtpCheck(url: string) {
    return this.indicators
      .check('smtp')
      .attempt(({ signal }) => smtpGreeting(url, signal))
      .withTimeout(EXTERNAL_TIMEOUT_MS)
      .cacheFor(EXTERNAL_CACHE_MS);
  }

  private externalCheck(target: HealthCheckUrl) {
    return this.indicators
      .check(target.name)
      .attempt(async ({ signal }) => {
        const response = await fetch(target.url, { signal, redirect: 'manual' });
        await response.body?.cancel();
        if (response.status >= 400) throw new Error(`HTTP ${response.status}`);
      })
      .withTimeout(EXTERNAL_TIMEOUT_MS)
      .cacheFor(EXTERNAL_CACHE_MS);
  }
}

/** Connects to the SMTP server, resolves on its `220` greeting and says QUIT; rejects otherwise. */
function smtpGreeting(url: string, signal: AbortSignal): Promise<void> {
  const { hostname, port, protocol } = new URL(url);
  const secure = protocol === 'smtps:';
  const options = {
    host: hostname.replace(/^\[|\]$/g, ''),
    port: Number(port) || (secure ? 465 : 25),
  };
  return new Promise((resolve, reject) => {
    const socket = secure
      ? tlsConnect({ ...options, servername: options.host })
      : netConnect(options);
    const fail = (error: Error) => {
      socket.destroy();
      reject(error);
    };
    signal.addEventListener('abort', () => fail(new Error('timed out')), { once: true });
    let greeting = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      greeting += chunk;
      if (!greeting.includes('\n')) return;
      if (!greeting.startsWith('220'))
        return fail(new Error(`greeted with ${greeting.slice(0, 3)}`));
      socket.end('QUIT\r\n');
      resolve();
    });
    socket.on('error', fail);
    socket.on('close', () => reject(new Error('closed before greeting')));
  });
}
