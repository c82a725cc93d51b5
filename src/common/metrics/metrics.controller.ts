import { Public } from '../../auth/public.decorator';
import { NoRateLimit } from '../rate-limit/rate-limit.decorators';
import { Controller, Get, Header, Headers, VERSION_NEUTRAL } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { ApiExcludeController } from '@nestjs/swagger';
import { timingSafeEqual } from 'node:crypto';
import { Registry } from 'prom-client';
import { AppConfig } from '../../config/app-config';
import { Unauthorized } from '../errors/domain-errors';
import { MetricsService } from './metrics.service';

/** Prometheus scrape endpoint; with METRICS_TOKEN set, scrapers send it as a bearer token. */
@ApiExcludeController()
@Public()
@NoRateLimit()
@Controller({ path: 'metrics', version: VERSION_NEUTRAL })
export class MetricsController {
  private readonly token?: Buffer;

  constructor(
    private readonly metrics: MetricsService,
    config: ConfigService<AppConfig, true>,
  ) {
    const token = config.get('metrics', { infer: true }).token;
    this.token = token === undefined ? undefined : Buffer.from(token);
  }

  @Get()
  @Header('Content-Type', Registry.PROMETHEUS_CONTENT_TYPE)
  @Header('Cache-Control', 'no-store')
  async scrape(@Headers('authorization') authorization?: string): Promise<string> {
    if (this.token && !matches(this.token, authorization)) {
      throw new Unauthorized('UNAUTHORIZED', 'A valid metrics bearer token is required.');
    }
    return this.metrics.registry.metrics();
  }
}

/** `Bearer <token>`, the scheme in any case (RFC 9110), the token compared in constant time. */
function matches(expected: Buffer, authorization: string | undefined): boolean {
  const given = /^Bearer (\S+)$/i.exec(authorization ?? '')?.[1];
  const actual = Buffer.from(given ?? '');
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
