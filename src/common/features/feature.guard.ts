import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AppError } from '../errors/domain-errors';
import { HttpRequest, requestPath } from '../http/http-request';
import { FEATURE_KEY } from './require-feature.decorator';
import { FeaturesService } from './features.service';

/**
 * A route behind a disabled flag answers exactly as a route that does not exist, before
 * authentication (AppModule imports its module before the others that register guards).
 */
@Injectable()
export class FeatureGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly features: FeaturesService,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const feature = this.reflector.getAllAndOverride<string | undefined>(FEATURE_KEY, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (feature === undefined || this.features.isEnabled(feature)) return true;
    if (context.getType() !== 'http') return false;
    const request = context.switchToHttp().getRequest<HttpRequest>();
    throw new AppError(404, 'NOT_FOUND', `Cannot ${request.method} ${requestPath(request)}`);
  }
}
