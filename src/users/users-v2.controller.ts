import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiAuth } from '../auth/api-auth.decorator';
import { ApiKeyScopes } from '../auth/api-key-scopes.decorator';
import { Roles } from '../auth/roles.decorator';
import { RequireFeature } from '../common/features/require-feature.decorator';
import { ApiProblems } from '../common/http/api-problems.decorator';
import { CursorPage } from '../common/http/pagination';
import { ListUsersV2Query } from './dto/list-users-v2.query';
import { UserV2Page } from './dto/user-v2-page.dto';
import { UserV2Response } from './dto/user-v2-response.dto';
import { UsersService } from './users.service';

@ApiTags('users')
@ApiAuth()
@RequireFeature('v2_api')
@Controller({ path: 'users', version: '2' })
export class UsersV2Controller {
  constructor(private readonly users: UsersService) {}

  @Get()
  @Roles('admin')
  @ApiKeyScopes('users:read')
  @ApiOperation({
    summary: 'List users, newest first (cursor pagination, enhanced representation)',
  })
  @ApiOkResponse({ type: UserV2Page })
  @ApiProblems(400, 401, 403, 429)
  list(@Query() query: ListUsersV2Query): Promise<CursorPage<UserV2Response>> {
    return this.users.listByCursor(query);
  }
}
