import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiAuth } from '../auth/api-auth.decorator';
import { Roles } from '../auth/roles.decorator';
import { Cached } from '../common/cache/cached.decorator';
import { ApiProblems } from '../common/http/api-problems.decorator';
import { USERS_CACHE_TAG } from '../users/users.service';
import { StatsResponse } from './dto/stats-response.dto';
import { StatsService } from './stats.service';

@ApiTags('stats')
@ApiAuth()
@Controller('stats')
export class StatsController {
  constructor(private readonly stats: StatsService) {}

  @Get()
  @Roles('admin')
  @Cached({ ttlSeconds: 30, tags: [USERS_CACHE_TAG] })
  @ApiOperation({ summary: 'Counts for operators: users by role, jobs by status (cached 30 s)' })
  @ApiOkResponse({ type: StatsResponse })
  @ApiProblems(401, 403, 429)
  get(): Promise<StatsResponse> {
    return this.stats.get();
  }
}
