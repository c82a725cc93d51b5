import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { AppError } from '../common/errors/domain-errors';
import { AppConfig } from '../config/app-config';

/**
 * Per socket, in memory (a socket lives on one instance): at most WS_MESSAGE_RATE_MAX events in
 * any WS_MESSAGE_RATE_TTL_S seconds, invalid ones included; refused events do not count.
 */
@Injectable()
export class SocketRateLimitGuard implements CanActivate {
  private readonly max: number;
  private readonly windowMs: number;
  /** Per socket, the times of its accepted events in the window, oldest first. */
  private readonly recent = new WeakMap<object, number[]>();

  constructor(config: ConfigService<AppConfig, true>) {
    const realtime = config.get('realtime', { infer: true });
    this.max = realtime.messageRateMax;
    this.windowMs = realtime.messageRateTtlSeconds * 1000;
  }

  canActivate(context: ExecutionContext): boolean {
    const socket = context.switchToWs().getClient<object>();
    const now = Date.now();
    const times = (this.recent.get(socket) ?? []).filter((at) => at > now - this.windowMs);
    this.recent.set(socket, times);
    if (times.length >= this.max) {
      throw new AppError(
        429,
        'RATE_LIMITED',
        `At most ${this.max} events per ${this.windowMs / 1000} s per socket.`,
      );
    }
    times.push(now);
    return true;
  }
}
