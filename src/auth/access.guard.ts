import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { Forbidden, Unauthorized } from '../common/errors/domain-errors';
import { Role, ROLE_RANK } from '../users/role';
import { API_KEY_SCOPES_KEY } from './api-key-scopes.decorator';
import { ApiKeyScope } from './api-keys/api-key-scope';
import { AuthRequest } from './auth.guard';
import { IS_PUBLIC_KEY } from './public.decorator';
import { ROLES_KEY } from './roles.decorator';

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Authorization, the last global guard (after AuthGuard and the rate limits): every route but
 * `@Public()` ones needs a principal; an API key needs one of the route's `@ApiKeyScopes()`;
 * the principal's role must reach the route's `@Roles()` (default: any role for reads, `user`
 * for writes, so guests are read-only; admin passes every check).
 */
@Injectable()
export class AccessGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean | undefined>(IS_PUBLIC_KEY, targets)) return true;
    const request = context.switchToHttp().getRequest<AuthRequest>();
    if (request.authFailure) throw request.authFailure;
    const principal = request.user;
    if (!principal) throw new Unauthorized();
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
      (READ_METHODS.has(request.method) ? 'guest' : 'user');
    if (ROLE_RANK[principal.role] < ROLE_RANK[required]) {
      throw new Forbidden(`This requires the ${required} role or higher.`);
    }
    return true;
  }
}
