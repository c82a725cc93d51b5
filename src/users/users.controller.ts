import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import {
  ApiCreatedResponse,
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
import { Cached } from '../common/cache/cached.decorator';
import { ApiProblems } from '../common/http/api-problems.decorator';
import { Page } from '../common/http/pagination';
import { ParseId } from '../common/http/parse-id.pipe';
import { SupersededBy } from '../common/http/superseded-by.decorator';
import { CreateUserDto } from './dto/create-user.dto';
import { ListUsersQuery } from './dto/list-users.query';
import { UpdateMeDto } from './dto/update-me.dto';
import { UpdateUserDto } from './dto/update-user.dto';
import { UserPage } from './dto/user-page.dto';
import { UserResponse } from './dto/user-response.dto';
import { USERS_CACHE_TAG, UsersService } from './users.service';

/** When GET /v2/users (cursor pagination) superseded GET /v1/users. */
const V2_USERS_SINCE = new Date('2026-11-25T00:00:00Z');

@ApiTags('users')
@ApiAuth()
@Controller('users')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Get()
  @Roles('admin')
  @ApiKeyScopes('users:read')
  @SupersededBy('/v2/users', V2_USERS_SINCE)
  @ApiOperation({ summary: 'List users (offset pagination; superseded by GET /v2/users)' })
  @ApiOkResponse({ type: UserPage })
  @ApiProblems(400, 401, 403, 429)
  list(@Query() query: ListUsersQuery): Promise<Page<UserResponse>> {
    return this.users.list(query);
  }

  @Post()
  @Roles('admin')
  @ApiOperation({ summary: 'Create a user' })
  @ApiCreatedResponse({ type: UserResponse })
  @ApiProblems(400, 401, 403, 409, 429)
  create(@Body() body: CreateUserDto): Promise<UserResponse> {
    return this.users.create(body);
  }

  @Get('me')
  @ApiKeyScopes('users:read')
  @Cached({ ttlSeconds: 60, tags: [USERS_CACHE_TAG] })
  @ApiOperation({ summary: 'Your profile' })
  @ApiOkResponse({ type: UserResponse })
  @ApiProblems(401, 403, 429)
  me(@CurrentUser() user: Principal): Promise<UserResponse> {
    return this.users.getResponse(user.id);
  }

  @Patch('me')
  @ApiOperation({ summary: 'Change your name' })
  @ApiOkResponse({ type: UserResponse })
  @ApiProblems(400, 401, 403, 429)
  updateMe(@CurrentUser() user: Principal, @Body() body: UpdateMeDto): Promise<UserResponse> {
    return this.users.updateName(user.id, body.name);
  }

  @Get(':id')
  @ApiKeyScopes('users:read')
  @Cached({ ttlSeconds: 60, tags: [USERS_CACHE_TAG] })
  @ApiOperation({ summary: 'A user (admins: anyone; others: themselves)' })
  @ApiOkResponse({ type: UserResponse })
  @ApiProblems(400, 401, 403, 404, 429)
  get(@CurrentUser() user: Principal, @Param('id', ParseId) id: string): Promise<UserResponse> {
    return this.users.findVisible(user, id);
  }

  @Patch(':id')
  @Roles('admin')
  @ApiOperation({
    summary: 'Change a user: name, role, isActive (role and deactivation end their sessions)',
  })
  @ApiOkResponse({ type: UserResponse })
  @ApiProblems(400, 401, 403, 404, 409, 429)
  update(@Param('id', ParseId) id: string, @Body() body: UpdateUserDto): Promise<UserResponse> {
    return this.users.update(id, body);
  }

  @Delete(':id')
  @Roles('admin')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a user (not the last active admin)' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiProblems(400, 401, 403, 404, 409, 429)
  remove(@Param('id', ParseId) id: string): Promise<void> {
    return this.users.remove(id);
  }
}
