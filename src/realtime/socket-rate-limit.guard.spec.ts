import { ExecutionContext } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { AppError } from '../common/errors/domain-errors';
import { AppConfig } from '../config/app-config';
import { SocketRateLimitGuard } from './socket-rate-limit.guard';

function contextOf(socket: object): ExecutionContext {
  return { switchToWs: () => ({ getClient: () => socket }) } as unknown as ExecutionContext;
}

function guard(max: number, ttlSeconds: number): SocketRateLimitGuard {
  const config = {
    get: () => ({ messageRateMax: max, messageRateTtlSeconds: ttlSeconds }),
  } as unknown as ConfigService<AppConfig, true>;
  return new SocketRateLimitGuard(config);
}

function outcome(limiter: SocketRateLimitGuard, socket: object): string {
  try {
    return limiter.canActivate(contextOf(socket)) ? 'ok' : 'refused';
  } catch (error) {
    return error instanceof AppError ? `${error.status} ${error.code}` : 'thrown';
  }
}

describe(SocketRateLimitGuard.name, () => {
  beforeEach(() => jest.useFakeTimers({ now: new Date('2026-11-25T12:00:00Z') }));
  afterEach(() => jest.useRealTimers());

  it('lets a socket send max events per window and refuses the next with 429 RATE_LIMITED', () => {
    const limiter = guard(3, 10);
    const socket = {};
    expect([1, 2, 3, 4].map(() => outcome(limiter, socket))).toEqual([
      'ok',
      'ok',
      'ok',
      '429 RATE_LIMITED',
    ]);
  });

  it('counts each socket on its own', () => {
    const limiter = guard(1, 10);
    const [a, b] = [{}, {}];
    expect([outcome(limiter, a), outcome(limiter, b), outcome(limiter, a)]).toEqual([
      'ok',
      'ok',
      '429 RATE_LIMITED',
    ]);
  });

  it('slides: an event leaves the window ttl seconds after it was accepted', () => {
    const limiter = guard(2, 10);
    const socket = {};
    expect(outcome(limiter, socket)).toBe('ok');
    jest.advanceTimersByTime(6000);
    expect(outcome(limiter, socket)).toBe('ok');
    expect(outcome(limiter, socket)).toBe('429 RATE_LIMITED');
    jest.advanceTimersByTime(4001);
    expect(outcome(limiter, socket)).toBe('ok');
    expect(outcome(limiter, socket)).toBe('429 RATE_LIMITED');
  });
});
