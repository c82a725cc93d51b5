import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import passport from 'passport';
import { HttpCacheInterceptor } from '../common/cache/http-cache.interceptor';
import { AppError, Unauthorized } from '../common/errors/domain-errors';
import { HttpRequest } from '../common/http/http-request';
import { ApiKeysService } from './api-keys/api-keys.service';
import { bearerToken, JwtStrategy } from './jwt.strategy';
import { Principal } from './principal';
import { IS_PUBLIC_KEY } from './public.decorator';

/** The request as the auth guards see it: the principal, or why the credentials were refused. */
export type AuthRequest = HttpRequest & { user?: Principal; authFailure?: AppError };

/**
 * Authentication, the first of two global guards: it identifies the caller by X-API-Key or
 * bearer access token (through passport-jwt) and never refuses. A refusal waits for
 * AccessGuard, so the rate limiter in between counts failed attempts too (per IP): guessing
 * keys or tokens is limited like any other request. `@Public()` routes are not identified.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly apiKeys: ApiKeysService,
    private readonly jwtStrategy: JwtStrategy,
    private readonly httpCache: HttpCacheInterceptor,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean | undefined>(IS_PUBLIC_KEY, targets)) return true;
    const request = context.switchToHttp().getRequest<AuthRequest>();
    const apiKey = request.headers['x-api-key'];
    try {
      request.user =
        apiKey !== undefined
          ? await this.apiKeys.authenticate(Array.isArray(apiKey) ? apiKey.join(',') : apiKey)
          : await AuthGuard.authenticateBearer(
              this.jwtStrategy,
              request,
              context.switchToHttp().getResponse(),
              // A cached route's entry is read beside the revocation check, in one round trip.
              (userId) => this.httpCache.prefetch(context, { id: userId }),
            );
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      request.authFailure = error;
    }
    return true;
  }

  /**
   * passport-jwt with this application's strategy instance, not the name 'jwt': passport's
   * registry is global to the process, so with several apps in one process (e2e suites) the
   * last one booted would check every app's tokens against its own secret and revocations.
   * Static: the Socket.IO handshake verifies its token with it too. `claimed` hears the user a
   * token verified before names, while its revocation check is under way.
   */
  static authenticateBearer(
    jwtStrategy: JwtStrategy,
    request: Pick<AuthRequest, 'headers'>,
    response?: unknown,
    claimed?: (userId: string) => void,
  ): Promise<Principal> {
    const token = bearerToken(request);
    const claims = token === undefined ? undefined : jwtStrategy.verified.get(token);
    if (claims) {
      const principal = jwtStrategy.validate(request, claims);
      if (typeof claims.sub === 'string') claimed?.(claims.sub);
      return principal;
    }
    // A copy per request: passport attaches the request's success/fail callbacks to it.
    const strategy = Object.create(jwtStrategy) as JwtStrategy;
    return new Promise((resolve, reject) => {
      const authenticate = passport.authenticate(
        strategy,
        { session: false },
        (error: unknown, user: Principal | false, info: unknown) => {
          if (user && !error) resolve(user);
          else reject(failureOf(error, info));
        },
      ) as (req: unknown, res: unknown, next: (error?: unknown) => void) => void;
      authenticate(request, response, (error) =>
        reject(error instanceof Error ? error : new Unauthorized()),
      );
    });
  }
}

/** Why passport refused: our own errors pass through, its failures become stable codes. */
function failureOf(error: unknown, info: unknown): AppError {
  if (error) {
    return error instanceof AppError
      ? error
      : new Unauthorized('INVALID_TOKEN', 'The access token is not valid.');
  }
  const failure = info as { name?: string; message?: string } | undefined;
  if (failure?.name === 'TokenExpiredError') {
    return new Unauthorized(
      'TOKEN_EXPIRED',
      'The access token has expired; refresh it or log in again.',
    );
  }
  if (failure?.name === 'JsonWebTokenError' || failure?.name === 'NotBeforeError') {
    return new Unauthorized('INVALID_TOKEN', 'The access token is not valid.');
  }
  return new Unauthorized(
    'UNAUTHORIZED',
    'Send a bearer access token (Authorization: Bearer ...) or an X-API-Key.',
  );
}
