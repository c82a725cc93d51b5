import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AppError } from '../errors/domain-errors';
import { CONSUMES_KEY } from './consumes.decorator';
import { HttpRequest } from './http-request';

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);
const JSON_ONLY = ['application/json'];

/**
 * 415 for a request body in a media type the route does not accept: JSON everywhere, and what
 * `@Consumes()` adds (the OAuth2 token endpoint takes a form). Bodiless requests pass.
 */
@Injectable()
export class ContentTypeGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<HttpRequest>();
    if (BODY_METHODS.has(request.method) && hasBody(request)) {
      const accepted =
        this.reflector.getAllAndOverride<string[] | undefined>(CONSUMES_KEY, [
          context.getHandler(),
          context.getClass(),
        ]) ?? JSON_ONLY;
      const mediaType = (request.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
      const isJson =
        mediaType === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(mediaType);
      if (!accepted.includes(mediaType) && !(isJson && accepted.includes('application/json'))) {
        throw new AppError(
          415,
          'UNSUPPORTED_MEDIA_TYPE',
          `Send the body as ${accepted.join(' or ')}${mediaType ? `, not ${mediaType}` : ''}.`,
        );
      }
    }
    return true;
  }
}

function hasBody(request: HttpRequest): boolean {
  const length = request.headers['content-length'];
  return (
    (length !== undefined && length !== '0') || request.headers['transfer-encoding'] !== undefined
  );
}
