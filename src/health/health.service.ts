import { Inject, Injectable, Optional } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import {
  HealthCheckResult,
  HealthCheckService,
  HealthIndicatorService,
  TypeOrmHealthIndicator,
} from '@nestjs/terminus';
import type Redis from 'ioredis';
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
