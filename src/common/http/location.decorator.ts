import {
  applyDecorators,
  CallHandler,
  ExecutionContext,
  Injectable,
  NestInterceptor,
  SetMetadata,
  UseInterceptors,
} from '@nestjs/common';
import { HttpAdapterHost, Reflector } from '@nestjs/core';
import { Observable, tap } from 'rxjs';

const LOCATION = Symbol('location');
type LocationOf = (body: never) => string;

@Injectable()
class LocationInterceptor implements NestInterceptor {
  constructor(
    private readonly reflector: Reflector,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const locate = this.reflector.get<LocationOf>(LOCATION, context.getHandler());
    return next.handle().pipe(
      tap((body) => {
        const response: unknown = context.switchToHttp().getResponse();
        this.adapterHost.httpAdapter.setHeader(response, 'Location', locate(body as never));
      }),
    );
  }
}

/** `Location` header of a created or accepted resource, computed from the response body. */
export function Location<T>(locate: (body: T) => string) {
  return applyDecorators(SetMetadata(LOCATION, locate), UseInterceptors(LocationInterceptor));
}
