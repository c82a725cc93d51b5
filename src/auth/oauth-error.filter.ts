import { ArgumentsHost, Catch, ExceptionFilter } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { ValidationFailed } from '../common/errors/domain-errors';
import { OAuthError } from './oauth-error';

/** The token endpoint speaks RFC 6749: its request errors are {error, error_description}. */
@Catch(OAuthError, ValidationFailed)
export class OAuthErrorFilter implements ExceptionFilter {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(exception: OAuthError | ValidationFailed, host: ArgumentsHost): void {
    const body =
      exception instanceof OAuthError
        ? { error: exception.error, error_description: exception.description }
        : {
            error: 'invalid_request',
            error_description: (exception.errors ?? []).map((e) => e.message).join('; '),
          };
    const response: unknown = host.switchToHttp().getResponse();
    const adapter = this.adapterHost.httpAdapter;
    adapter.setHeader(response, 'Cache-Control', 'no-store');
    adapter.setHeader(response, 'Pragma', 'no-cache');
    adapter.reply(response, body, 400);
  }
}
