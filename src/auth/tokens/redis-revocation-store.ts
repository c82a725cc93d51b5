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

  async revokeFamily(familyId: string, ttlSeconds: number): Promise<void> {
    await unavailableOnError(
      this.redis.set(`${this.prefix}revoked:family:${familyId}`, '1', 'EX', ttlSeconds),
    );
  }

  async isRevoked(
    jti: string,
    userId: string,
    issuedAt: number,
    familyId?: string,
  ): Promise<boolean> {
    const keys = [`${this.prefix}revoked:jti:${jti}`, `${this.prefix}revoked:user:${userId}`];
    if (familyId !== undefined) keys.push(`${this.prefix}revoked:family:${familyId}`);
    let token: string | null, user: string | null, family: string | null | undefined;
    try {
      [token, user, family] = await this.redis.mget(keys);
    } catch {
      // Fail closed: without the revocation list a logged-out token could pass.
      throw new ServiceUnavailable('Authentication is temporarily unavailable.');
    }
    return (
      token !== null ||
      (family !== undefined && family !== null) ||
      (user !== null && issuedAt < Number(user))
    );
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
