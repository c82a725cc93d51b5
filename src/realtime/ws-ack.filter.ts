import { ArgumentsHost, Catch, Logger, WsExceptionFilter } from '@nestjs/common';
import { AppError } from '../common/errors/domain-errors';
import { Ack, AckError, RealtimeSocket } from './realtime-events';

const ACK_ERRORS: Record<number, AckError> = {
  400: 'invalid',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  409: 'conflict',
  429: 'rate_limited',
  503: 'unavailable',
};

/**
 * The one WebSocket exception filter: whatever a handler, guard or pipe throws becomes the ack
 * `{ok: false, error, message?, errors?}`. Domain errors keep their message; anything else is
 * `internal`, logged and never described to the client.
 */
@Catch()
export class WsAckFilter implements WsExceptionFilter {
  private readonly logger = new Logger('Realtime');

  catch(exception: unknown, host: ArgumentsHost): void {
    const ws = host.switchToWs();
    const error =
      exception instanceof AppError
        ? (ACK_ERRORS[exception.status] ?? (exception.status < 500 ? 'invalid' : 'internal'))
        : 'internal';
    const ack: Ack =
      error === 'internal' || !(exception instanceof AppError)
        ? { ok: false, error }
        : {
            ok: false,
            error,
            message: exception.detail,
            ...(exception.errors && { errors: exception.errors }),
          };
    if (error === 'internal') {
      const socket = ws.getClient<RealtimeSocket>();
      this.logger.error(
        { err: exception, event: ws.getPattern(), userId: socket.data?.user?.id },
        'socket event failed',
      );
    }
    // Nest calls handlers with (socket, payload, ack): the ack is the third argument, if sent.
    const callback: unknown = host.getArgByIndex(2);
    if (typeof callback === 'function') (callback as (ack: Ack) => void)(ack);
  }
}
