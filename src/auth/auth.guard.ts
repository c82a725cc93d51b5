import { ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard as PassportAuthGuard } from '@nestjs/passport';
import { AppError, Forbidden, Unauthorized } from '../common/errors/domain-errors';
import { HttpRequest } from '../common/http/http-request';
import { Role, ROLE_RANK } from '../users/role';
import { API_KEY_SCOPES_KEY } from './api-key-scopes.decorator';
import { ApiKeyScope } from './api-keys/api-key-scope';
import { ApiKeysService } from './api-keys/api-keys.service';
import { Principal } from './principal';
import { IS_PUBLIC_KEY } from './public.decorator';
import { ROLES_KEY } from './roles.decorator';

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

type AuthRequest = HttpRequest & { user?: Principal };
type Targets = [
  ReturnType<ExecutionContext['getHandler']>,
  ReturnType<ExecutionContext['getClass']>,
];

/**
 * The one global authentication and authorization guard: an X-API-Key or a bearer access token
 * (through passport-jwt), then the route's role and API-key scope. `@Public()` opts out.
 */
@Injectable()
export class AuthGuard extends PassportAuthGuard('jwt') {
  constructor(
    private readonly reflector: Reflector,
    private readonly apiKeys: ApiKeysService,
  ) {
    super();
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets: Targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean | undefined>(IS_PUBLIC_KEY, targets)) return true;
    const request = context.switchToHttp().getRequest<AuthRequest>();
    const apiKey = request.headers['x-api-key'];
    if (apiKey !== undefined) {
      request.user = await this.apiKeys.authenticate(
        Array.isArray(apiKey) ? apiKey.join(',') : apiKey,
      );
    } else {
      await super.canActivate(context);
    }
    this.authorize(request.user as Principal, request.method, targets);
    return true;
  }

  /** Passport's outcome: our own errors pass through, its failures become stable codes. */
  override handleRequest<T = Principal>(error: unknown, user: T | false, info: unknown): T {
    if (error)
      throw error instanceof AppError
        ? error
        : new Unauthorized('INVALID_TOKEN', 'The access token is not valid.');
    if (user) return user;
    const failure = info as { name?: string; message?: string } | undefined;
    if (failure?.name === 'TokenExpiredError') {
      throw new Unauthorized(
        'TOKEN_EXPIRED',
        'The access token has expired; refresh it or log in again.',
      );
    }
    if (failure?.name === 'JsonWebTokenError' || failure?.name === 'NotBeforeError') {
      throw new Unauthorized('INVALID_TOKEN', 'The access token is not valid.');
    }
    throw new Unauthorized(
      'UNAUTHORIZED',
      'Send a bearer access token (Authorization: Bearer ...) or an X-API-Key.',
    );
  }

  private authorize(principal: Principal, method: string, targets: Targets): void {
    if (principal.via === 'api-key') {
      const accepted = this.reflector.getAllAndOverride<ApiKeyScope[] | undefined>(
        API_KEY_SCOPES_KEY,
        targets,
      );
      if (!accepted)
        throw new Forbidden('This route does not accept API keys; use an access token.');
      if (!accepted.some((scope) => principal.scopes?.includes(scope))) {
        throw new Forbidden(`This API key needs one of the scopes: ${accepted.join(', ')}.`);
      }
    }
    const required =
      this.reflector.getAllAndOverride<Role | undefined>(ROLES_KEY, targets) ??
      (READ_METHODS.has(method) ? 'guest' : 'user');
    if (ROLE_RANK[principal.role] < ROLE_RANK[required]) {
      throw new Forbidden(`This requires the ${required} role or higher.`);
    }
  }
}
