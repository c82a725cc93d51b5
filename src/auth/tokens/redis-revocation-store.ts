import type Redis from 'ioredis';
import { ServiceUnavailable } from '../../common/errors/domain-errors';
import { RevocationStore } from './revocation-store';

/** Services mode: shared by every instance, one round trip per check. */
export class RedisRevocationStore extends RevocationStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {
    super();
  }

  async revokeToken(jti: string, expiresAt: number): Promise<void> {
    await unavailableOnError(
      this.redis.set(
        `${this.prefix}revoked:jti:${jti}`,
        '1',
        'EXAT',
        Math.max(expiresAt, nowSeconds() + 1),
      ),
    );
  }

  async revokeUser(userId: string, ttlSeconds: number): Promise<void> {
    await unavailableOnError(
      this.redis.set(
        `${this.prefix}revoked:user:${userId}`,
        String(Date.now() / 1000),
        'EX',
        ttlSeconds,
      ),
    );
  }

  async isRevoked(jti: string, userId: string, issuedAt: number): Promise<boolean> {
    let token: string | null, user: string | null;
    try {
      [token, user] = await this.redis.mget(
        `${this.prefix}revoked:jti:${jti}`,
        `${this.prefix}revoked:user:${userId}`,
      );
    } catch {
      // Fail closed: without the revocation list a logged-out token could pass.
      throw new ServiceUnavailable('Authentication is temporarily unavailable.');
    }
    return token !== null || (user !== null && issuedAt < Number(user));
  }
}

/** Redis down: a 503 the client can retry, not a 500. */
async function unavailableOnError(command: Promise<unknown>): Promise<void> {
  try {
    await command;
  } catch {
    throw new ServiceUnavailable('Sessions cannot be revoked right now; try again shortly.');
  }
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
