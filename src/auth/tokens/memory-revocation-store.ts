import { OnModuleDestroy } from '@nestjs/common';
import { RevocationStore } from './revocation-store';

/**
 * Embedded mode: one process, so a Map (expired entries swept every minute) is enough. The Map
 * dies with the process, so an access token issued before this store was created counts as
 * revoked: its logout, deletion, role or password change may be among the entries lost in a
 * restart. Clients refresh; refresh tokens, and the state they are checked against, persist.
 */
export class MemoryRevocationStore extends RevocationStore implements OnModuleDestroy {
  /** key -> [value, expires at (ms)] */
  private readonly entries = new Map<string, [number, number]>();
  private readonly sweeper = setInterval(() => this.sweep(), 60_000).unref();
  /**
   * Whole seconds: a token iat is a NumericDate, and a client's iat of the current second must
   * not count as issued before a start earlier in that second.
   */
  private readonly startedAt = Math.floor(Date.now() / 1000);

  revokeToken(jti: string, expiresAt: number): Promise<void> {
    this.entries.set(`jti:${jti}`, [1, expiresAt * 1000]);
    return Promise.resolve();
  }

  revokeUser(userId: string, ttlSeconds: number): Promise<void> {
    const now = Date.now();
    this.entries.set(`user:${userId}`, [now / 1000, now + ttlSeconds * 1000]);
    return Promise.resolve();
  }

  revokeFamily(familyId: string, ttlSeconds: number): Promise<void> {
    this.entries.set(`family:${familyId}`, [1, Date.now() + ttlSeconds * 1000]);
    return Promise.resolve();
  }

  isRevoked(jti: string, userId: string, issuedAt: number, familyId?: string): Promise<boolean> {
    const user = this.get(`user:${userId}`);
    return Promise.resolve(
      issuedAt < this.startedAt ||
        this.get(`jti:${jti}`) !== undefined ||
        (familyId !== undefined && this.get(`family:${familyId}`) !== undefined) ||
        (user !== undefined && issuedAt < user),
    );
  }

  onModuleDestroy(): void {
    clearInterval(this.sweeper);
  }

  private get(key: string): number | undefined {
    const entry = this.entries.get(key);
    return entry && entry[1] > Date.now() ? entry[0] : undefined;
  }

  private sweep(): void {
    const now = Date.now();
    for (const [key, [, expiresAt]] of this.entries) if (expiresAt <= now) this.entries.delete(key);
  }
}
