import { Public } from '../auth/public.decorator';
import { NoRateLimit } from '../common/rate-limit/rate-limit.decorators';
import {
  Controller,
  Get,
  Header,
  ServiceUnavailableException,
  UseFilters,
  VERSION_NEUTRAL,
} from '@nestjs/common';
import {
  ApiOkResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import { HealthCheckResult } from '@nestjs/terminus';
import { HealthResultFilter } from './health-result.filter';
import { HealthReport, HealthService } from './health.service';

/** Kubernetes probes and the operators' overview; never versioned, cached or rate limited. */
@ApiTags('health')
@Public()
@NoRateLimit()
@Controller({ path: 'health', version: VERSION_NEUTRAL })
@UseFilters(HealthResultFilter)
export class HealthController {
  constructor(private readonly health: HealthService) {}

  @Get('live')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'Liveness: the process serves HTTP (touches no dependency)' })
  @ApiOkResponse({ schema: { example: { status: 'ok' } } })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Readiness: database and Redis answer and the process is not shutting down',
  })
  @ApiOkResponse({ description: 'Ready (Terminus body)' })
  @ApiServiceUnavailableResponse({ description: 'Not ready (Terminus body)' })
  ready(): Promise<HealthCheckResult> {
    return this.health.readiness();
  }

  @Get()
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Aggregate health: healthy, degraded (optional dependency down) or unhealthy',
  })
  @ApiOkResponse({ description: 'Healthy or degraded' })
  @ApiServiceUnavailableResponse({ description: 'Unhealthy: the database is down' })
  async report(): Promise<HealthReport> {
    const report = await this.health.report();
    if (report.status === 'unhealthy') throw new ServiceUnavailableException(report);
    return report;
  }
}
