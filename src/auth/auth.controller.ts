import { Body, Controller, Get, Header, HttpCode, Post, UseFilters } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConsumes,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { RequireFeature } from '../common/features/require-feature.decorator';
import { ApiProblems } from '../common/http/api-problems.decorator';
import { Consumes } from '../common/http/consumes.decorator';
import { StrictRateLimit } from '../common/rate-limit/rate-limit.decorators';
import { UserResponse } from '../users/dto/user-response.dto';
import { ApiAuth } from './api-auth.decorator';
import { ApiKeyScopes } from './api-key-scopes.decorator';
import { AuthService } from './auth.service';
import { CurrentUser } from './current-user.decorator';
import { AuthResponse } from './dto/auth-response.dto';
import { ChangePasswordDto } from './dto/change-password.dto';
import { LoginDto } from './dto/login.dto';
import { OAuthErrorResponse } from './dto/oauth-error-response.dto';
import { OAuthTokenResponse } from './dto/oauth-token-response.dto';
import { RefreshDto } from './dto/refresh.dto';
import { RegisterDto } from './dto/register.dto';
import { TokenPairResponse } from './dto/token-pair-response.dto';
import { TokenRequestDto } from './dto/token-request.dto';
import { OAuthErrorFilter } from './oauth-error.filter';
import { Principal } from './principal';
import { Public } from './public.decorator';
import { Roles } from './roles.decorator';

const FORM = 'application/x-www-form-urlencoded';

@ApiTags('auth')
@Controller('auth')
export class AuthController {
  constructor(private readonly auth: AuthService) {}

  @Post('register')
  @Header('Cache-Control', 'no-store')
  @Public()
  @RequireFeature('registration')
  @StrictRateLimit()
  @ApiOperation({ summary: 'Create an account (feature flag `registration`) and log in' })
  @ApiCreatedResponse({ type: AuthResponse })
  @ApiProblems(400, 404, 409, 429)
  register(@Body() body: RegisterDto): Promise<AuthResponse> {
    return this.auth.register(body);
  }

  @Post('login')
  @Header('Cache-Control', 'no-store')
  @Public()
  @StrictRateLimit()
  @HttpCode(200)
  @ApiOperation({ summary: 'Exchange email and password for tokens' })
  @ApiOkResponse({ type: AuthResponse })
  @ApiProblems(400, 401, 429)
  login(@Body() body: LoginDto): Promise<AuthResponse> {
    return this.auth.login(body);
  }

  @Post('token')
  @Public()
  @StrictRateLimit()
  @HttpCode(200)
  @Consumes(FORM)
  @UseFilters(OAuthErrorFilter)
  @Header('Cache-Control', 'no-store')
  @Header('Pragma', 'no-cache')
  @ApiConsumes(FORM)
  @ApiOperation({ summary: 'OAuth2 token endpoint (RFC 6749): password and refresh_token grants' })
  @ApiOkResponse({ type: OAuthTokenResponse })
  @ApiBadRequestResponse({
    type: OAuthErrorResponse,
    description: 'invalid_request, invalid_grant or unsupported_grant_type',
  })
  @ApiProblems(415, 429)
  token(@Body() body: TokenRequestDto): Promise<OAuthTokenResponse> {
    return this.auth.token(body);
  }

  @Post('refresh')
  @Header('Cache-Control', 'no-store')
  @Public()
  @HttpCode(200)
  @ApiOperation({
    summary: 'Rotate a refresh token: a new pair; reusing an old token revokes the login',
  })
  @ApiOkResponse({ type: TokenPairResponse })
  @ApiProblems(400, 401, 429)
  refresh(@Body() body: RefreshDto): Promise<TokenPairResponse> {
    return this.auth.refresh(body.refreshToken);
  }

  @Post('logout')
  @Roles('guest')
  @HttpCode(204)
  @ApiAuth()
  @ApiOperation({
    summary: 'Revoke this login: the refresh token family and the access token in use',
  })
  @ApiNoContentResponse({ description: 'Logged out' })
  @ApiProblems(400, 401, 429)
  logout(@CurrentUser() user: Principal, @Body() body: RefreshDto): Promise<void> {
    return this.auth.logout(user, body.refreshToken);
  }

  @Get('me')
  @ApiKeyScopes('users:read')
  @ApiAuth()
  @ApiOperation({ summary: 'The authenticated user' })
  @ApiOkResponse({ type: UserResponse })
  @ApiProblems(401, 403, 429)
  me(@CurrentUser() user: Principal): Promise<UserResponse> {
    return this.auth.me(user);
  }

  @Post('password')
  @StrictRateLimit()
  @Roles('guest')
  @HttpCode(204)
  @ApiAuth()
  @ApiOperation({ summary: 'Change your password; every session (refresh and access tokens) ends' })
  @ApiNoContentResponse({ description: 'Changed; log in again' })
  @ApiProblems(400, 401, 429)
  changePassword(@CurrentUser() user: Principal, @Body() body: ChangePasswordDto): Promise<void> {
    return this.auth.changePassword(user, body);
  }
}
