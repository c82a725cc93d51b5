import { Body, Controller, Delete, Get, Header, HttpCode, Param, Post } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { ApiProblems } from '../../common/http/api-problems.decorator';
import { ApiAuth } from '../api-auth.decorator';
import { ParseId } from '../../common/http/parse-id.pipe';
import { CurrentUser } from '../current-user.decorator';
import { Principal } from '../principal';
import { Roles } from '../roles.decorator';
import { ApiKeysService } from './api-keys.service';
import { ApiKeyResponse } from './dto/api-key-response.dto';
import { CreateApiKeyDto } from './dto/create-api-key.dto';
import { CreatedApiKeyResponse } from './dto/created-api-key.dto';

@ApiTags('api-keys')
@ApiAuth()
@Controller('api-keys')
@Roles('user')
export class ApiKeysController {
  constructor(private readonly apiKeys: ApiKeysService) {}

  @Post()
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'Create an API key (the key is shown once)' })
  @ApiCreatedResponse({ type: CreatedApiKeyResponse })
  @ApiProblems(400, 401, 403, 429)
  create(
    @CurrentUser() user: Principal,
    @Body() body: CreateApiKeyDto,
  ): Promise<CreatedApiKeyResponse> {
    return this.apiKeys.create(user, body);
  }

  @Get()
  @ApiOperation({ summary: 'Your API keys (admins: every key), without secrets' })
  @ApiOkResponse({ type: [ApiKeyResponse] })
  @ApiProblems(401, 403, 429)
  list(@CurrentUser() user: Principal): Promise<ApiKeyResponse[]> {
    return this.apiKeys.list(user);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Revoke an API key' })
  @ApiNoContentResponse({ description: 'Revoked (also when it already was)' })
  @ApiProblems(400, 401, 403, 404, 429)
  revoke(@CurrentUser() user: Principal, @Param('id', ParseId) id: string): Promise<void> {
    return this.apiKeys.revoke(user, id);
  }
}
