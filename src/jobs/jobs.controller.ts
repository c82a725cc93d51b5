import {
  Body,
  Controller,
  Delete,
  Get,
  Headers,
  HttpCode,
  Param,
  Post,
  Query,
} from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiHeader,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { ApiAuth } from '../auth/api-auth.decorator';
import { ApiKeyScopes } from '../auth/api-key-scopes.decorator';
import { CurrentUser } from '../auth/current-user.decorator';
import { Principal } from '../auth/principal';
import { Roles } from '../auth/roles.decorator';
import { ApiProblems } from '../common/http/api-problems.decorator';
import { Location } from '../common/http/location.decorator';
import { Page } from '../common/http/pagination';
import { ParseId } from '../common/http/parse-id.pipe';
import { CreateJobDto } from './dto/create-job.dto';
import { JobAccepted } from './dto/job-accepted.dto';
import { JobPage } from './dto/job-page.dto';
import { JobResponse } from './dto/job-response.dto';
import { ListJobsQuery } from './dto/list-jobs.query';
import { JobsService } from './jobs.service';

@ApiTags('jobs')
@ApiAuth()
@Controller('jobs')
export class JobsController {
  constructor(private readonly jobs: JobsService) {}

  @Post()
  @HttpCode(202)
  @ApiKeyScopes('jobs:write')
  @Location((job: JobAccepted) => `/v1/jobs/${job.id}`)
  @ApiOperation({
    summary: 'Queue a job; poll its Location (or listen on the socket) for the outcome',
  })
  @ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    description: 'The same key from the same caller returns the first job instead of a second one',
  })
  @ApiAcceptedResponse({ type: JobAccepted })
  @ApiProblems(400, 401, 403, 409, 413, 415, 429, 503)
  create(
    @CurrentUser() user: Principal,
    @Body() body: CreateJobDto,
    @Headers('idempotency-key') idempotencyKey?: string,
  ): Promise<JobAccepted> {
    return this.jobs.create(user, body, idempotencyKey);
  }

  @Get()
  @ApiKeyScopes('jobs:read')
  @ApiOperation({
    summary: "Your jobs, newest first (admins: everyone's); ?status=failed is the dead-letter list",
  })
  @ApiOkResponse({ type: JobPage })
  @ApiProblems(400, 401, 403, 429)
  list(@CurrentUser() user: Principal, @Query() query: ListJobsQuery): Promise<Page<JobResponse>> {
    return this.jobs.list(user, query);
  }

  @Get(':id')
  @ApiKeyScopes('jobs:read')
  @ApiOperation({ summary: 'A job: status, progress, attempts, result or error' })
  @ApiOkResponse({ type: JobResponse })
  @ApiProblems(400, 401, 403, 404, 429)
  get(@CurrentUser() user: Principal, @Param('id', ParseId) id: string): Promise<JobResponse> {
    return this.jobs.get(user, id);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiKeyScopes('jobs:write')
  @ApiOperation({ summary: 'Cancel a queued job (409 once it is running or finished)' })
  @ApiNoContentResponse({ description: 'Cancelled' })
  @ApiProblems(400, 401, 403, 404, 409, 429)
  cancel(@CurrentUser() user: Principal, @Param('id', ParseId) id: string): Promise<void> {
    return this.jobs.cancel(user, id);
  }

  @Post(':id/retry')
  @HttpCode(202)
  @Roles('admin')
  @ApiOperation({ summary: 'Run a failed job again with a fresh set of attempts (admins)' })
  @ApiAcceptedResponse({ type: JobResponse })
  @ApiProblems(400, 401, 403, 404, 409, 429, 503)
  retry(@Param('id', ParseId) id: string): Promise<JobResponse> {
    return this.jobs.retry(id);
  }
}
