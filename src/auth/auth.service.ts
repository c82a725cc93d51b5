import { Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AppError, Unauthorized } from '../common/errors/domain-errors';
import { normalizeEmail } from '../common/http/string-transforms';
import { JobsService } from '../jobs/jobs.service';
import { UserResponse } from '../users/dto/user-response.dto';
import { UsersService } from '../users/users.service';
import { AuthResponse } from './dto/auth-response.dto';
import { ChangePasswordDto } from './dto/change-password.dto';
import { LoginDto } from './dto/login.dto';
import { OAuthTokenResponse } from './dto/oauth-token-response.dto';
import { RegisterDto } from './dto/register.dto';
import { TokenPairResponse } from './dto/token-pair-response.dto';
import { TokenRequestDto } from './dto/token-request.dto';
import { OAuthError } from './oauth-error';
import { Principal } from './principal';
import { TokenPair, TokensService } from './tokens/tokens.service';

@Injectable()
export class AuthService {
  private readonly logger = new Logger(AuthService.name);

  constructor(
    private readonly dataSource: DataSource,
    private readonly users: UsersService,
    private readonly tokens: TokensService,
    private readonly jobs: JobsService,
  ) {}

  /** The account and its first tokens in one transaction: a failure leaves no half account. */
  async register(input: RegisterDto): Promise<AuthResponse> {
    const { user, pair } = await this.dataSource.transaction(async (manager) => {
      const created = await this.users.create({ ...input, role: 'user' }, manager);
      return { user: created, pair: await this.tokens.issue(created.id, undefined, manager) };
    });
    await this.users.committed();
    // After the commit, and never failing the registration: the account exists either way.
    await this.jobs.enqueue(user.id, 'email.welcome', {}).catch((error: Error) => {
      this.logger.error({ err: error, userId: user.id }, 'welcome email not queued');
    });
    return withUser(user, pair);
  }

  /** Unknown email, wrong password and inactive account are the same 401, in the same time. */
  async login(input: LoginDto): Promise<AuthResponse> {
    const user = await this.users.verifyCredentials(input.email, input.password);
    if (!user)
      throw new Unauthorized('INVALID_CREDENTIALS', 'The email or password is not correct.');
    return withUser(user, await this.tokens.issue(user.id));
  }

  async refresh(refreshToken: string): Promise<TokenPairResponse> {
    return toPairResponse(await this.tokens.rotate(refreshToken));
  }

  /** RFC 6749 token endpoint: the password and refresh_token grants. */
  async token(request: TokenRequestDto): Promise<OAuthTokenResponse> {
    let pair: TokenPair;
    switch (request.grant_type) {
      case 'password': {
        if (!request.username || !request.password) {
          throw new OAuthError(
            'invalid_request',
            'grant_type=password needs username and password.',
          );
        }
        const user = await this.users.verifyCredentials(
          normalizeEmail(request.username),
          request.password,
        );
        if (!user)
          throw new OAuthError('invalid_grant', 'The username or password is not correct.');
        pair = await this.tokens.issue(user.id);
        break;
      }
      case 'refresh_token': {
        if (!request.refresh_token) {
          throw new OAuthError('invalid_request', 'grant_type=refresh_token needs refresh_token.');
        }
        pair = await this.rotateAsGrant(request.refresh_token);
        break;
      }
      case undefined:
        throw new OAuthError('invalid_request', 'grant_type is required.');
      default:
        throw new OAuthError(
          'unsupported_grant_type',
          'Supported grant types: password, refresh_token.',
        );
    }
    return {
      access_token: pair.accessToken,
      token_type: 'bearer',
      expires_in: pair.expiresIn,
      refresh_token: pair.refreshToken,
    };
  }

  logout(principal: Principal, refreshToken: string): Promise<void> {
    return this.tokens.logout(principal, refreshToken);
  }

  changePassword(principal: Principal, input: ChangePasswordDto): Promise<void> {
    return this.users.changePassword(principal.id, input.currentPassword, input.newPassword);
  }

  me(principal: Principal): Promise<UserResponse> {
    return this.users.getResponse(principal.id);
  }

  /** A rotated, expired or unknown refresh token is invalid_grant (reuse still revokes the family). */
  private async rotateAsGrant(refreshToken: string): Promise<TokenPair> {
    try {
      return await this.tokens.rotate(refreshToken);
    } catch (error) {
      if (error instanceof AppError && error.status === 401)
        throw new OAuthError('invalid_grant', error.detail);
      throw error;
    }
  }
}

function toPairResponse(pair: TokenPair): TokenPairResponse {
  return {
    accessToken: pair.accessToken,
    refreshToken: pair.refreshToken,
    tokenType: 'Bearer',
    expiresIn: pair.expiresIn,
  };
}

function withUser(user: UserResponse, pair: TokenPair): AuthResponse {
  return { user, ...toPairResponse(pair) };
}
