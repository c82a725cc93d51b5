import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { JwtService } from '@nestjs/jwt';
import { randomBytes, randomUUID } from 'node:crypto';
import { sha256 } from '../../common/security/sha256';
import { DataSource, EntityManager, In, IsNull } from 'typeorm';
import { AppConfig } from '../../config/app-config';
import { Unauthorized } from '../../common/errors/domain-errors';
import { ROLES, Role } from '../../users/role';
import { User } from '../../users/user.entity';
import { Principal } from '../principal';
import { RefreshToken } from './refresh-token.entity';
import { RevocationNotices } from './revocation-notices';
import { RevocationStore } from './revocation-store';

/** A new access token with its refresh token. */
export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  /** Access token lifetime in seconds. */
  expiresIn: number;
}

interface AccessClaims {
  sub: string;
  role: Role;
  jti: string;
  /** The refresh token family the token was issued with (absent in tokens issued before it was added). */
  fid?: string;
  iat: number;
  exp: number;
  iss: string;
  aud: string | string[];
}

const REFRESH_TOKEN = /^rt_[A-Za-z0-9_-]{43}$/;

/** Issues, verifies, rotates and revokes tokens. Access tokens are HS256 JWTs; refresh tokens opaque. */
@Injectable()
export class TokensService {
  private readonly jwtConfig: AppConfig['jwt'];

  constructor(
    private readonly jwt: JwtService,
    private readonly dataSource: DataSource,
    private readonly revocations: RevocationStore,
    private readonly notices: RevocationNotices,
    config: ConfigService<AppConfig, true>,
  ) {
    this.jwtConfig = config.get('jwt', { infer: true });
  }

  /**
   * Tokens for a login: a new refresh token family (or the given one, on rotation). The user's
   * row is read FOR SHARE and the token signed before the commit, so a concurrent change of
   * role, activation or password (which locks the row) lands wholly before (the token carries
   * the new state) or after (its revocation covers the token).
   */
  async issue(userId: string, familyId?: string, manager?: EntityManager): Promise<TokenPair> {
    if (!manager)
      return this.dataSource.transaction((inner) => this.issue(userId, familyId, inner));
    const user = await manager.findOne(User, {
      where: { id: userId },
      lock: { mode: 'pessimistic_read' },
    });
    if (!user?.isActive)
      throw new Unauthorized('INVALID_CREDENTIALS', 'The email or password is not correct.');
    const refreshToken = `rt_${randomBytes(32).toString('base64url')}`;
    const family = familyId ?? randomUUID();
    await manager.insert(RefreshToken, {
      userId: user.id,
      familyId: family,
      tokenHash: sha256(refreshToken),
      expiresAt: new Date(Date.now() + this.jwtConfig.refreshTtlSeconds * 1000),
    });
    // iat to the millisecond (a NumericDate may be fractional): a revocation of the user
    // (password or role change, deactivation) must not spare tokens issued earlier in the same
    // second, nor kill a login made just after it. exp stays whole seconds.
    const now = Date.now();
    const accessToken = await this.jwt.signAsync({
      sub: user.id,
      role: user.role,
      jti: randomUUID(),
      fid: family,
      iat: now / 1000,
      exp: Math.floor(now / 1000) + this.jwtConfig.accessTtlSeconds,
    });
    return { accessToken, refreshToken, expiresIn: this.jwtConfig.accessTtlSeconds };
  }

  /**
   * The principal of a signature-checked access token: every claim must be present (a token
   * without exp is refused) and the token not revoked. No database access.
   */
  async principalOf(payload: unknown): Promise<Principal> {
    if (!isAccessClaims(payload))
      throw new Unauthorized('INVALID_TOKEN', 'The access token is not valid.');
    if (await this.revocations.isRevoked(payload.jti, payload.sub, payload.iat, payload.fid)) {
      throw new Unauthorized('INVALID_TOKEN', 'The access token has been revoked.');
    }
    return {
      id: payload.sub,
      role: payload.role,
      via: 'token',
      tokenId: payload.jti,
      tokenExpiresAt: payload.exp,
      tokenFamilyId: payload.fid,
    };
  }

  /**
   * Exchanges a refresh token for a new pair of the same family. A token that was already
   * rotated (or revoked) revokes its whole family: someone replayed it.
   */
  async rotate(refreshToken: string): Promise<TokenPair> {
    if (!REFRESH_TOKEN.test(refreshToken)) throw invalidRefreshToken();
    const outcome = await this.dataSource.transaction(async (manager) => {
      const found = await manager.findOne(RefreshToken, {
        where: { tokenHash: sha256(refreshToken) },
      });
      if (!found) throw invalidRefreshToken();
      // Locks are taken in one order everywhere, the user then their tokens (a deletion cascades
      // that way). The token's row lock serialises a rotation and a replay of the same token.
      const user = await manager.findOne(User, {
        where: { id: found.userId },
        lock: { mode: 'pessimistic_read' },
      });
      const current = await manager.findOne(RefreshToken, {
        where: { id: found.id },
        lock: { mode: 'pessimistic_write' },
      });
      if (!user?.isActive || !current) throw invalidRefreshToken();
      if (current.revokedAt) {
        // Rotated (a newer token of the family exists): a replay. Otherwise revoked by a logout,
        // a password change or a deactivation: simply no longer valid.
        // Compared in SQL: created_at has microseconds, a JS Date only milliseconds.
        const rotated = await manager
          .createQueryBuilder(RefreshToken, 't')
          .where('t.familyId = :familyId', { familyId: current.familyId })
          .andWhere('t.createdAt > (SELECT c.created_at FROM refresh_tokens c WHERE c.id = :id)', {
            id: current.id,
          })
          .getExists();
        if (!rotated) throw invalidRefreshToken();
        return { reusedFamily: current.familyId };
      }
      if (current.expiresAt.getTime() <= Date.now()) {
        throw new Unauthorized('TOKEN_EXPIRED', 'The refresh token has expired; log in again.');
      }
      // A session older than the user's last password change, deactivation or role change is
      // over, even one whose rotation was in flight while the change happened.
      const ended = await manager
        .createQueryBuilder(RefreshToken, 't')
        .innerJoin(User, 'u', 'u.id = t.userId')
        .where('t.id = :id AND t.createdAt <= u.sessionsValidAfter', { id: current.id })
        .getExists();
      if (ended) throw invalidRefreshToken();
      await manager.update(RefreshToken, { id: current.id }, { revokedAt: new Date() });
      return { tokens: await this.issue(user.id, current.familyId, manager) };
    });
    if (outcome.tokens) return outcome.tokens;
    // The family's refresh tokens, and the access tokens issued with them: whoever replayed or
    // rotated the stolen token holds one of those.
    await this.revokeFamily(outcome.reusedFamily);
    await this.revocations.revokeFamily(outcome.reusedFamily, this.jwtConfig.accessTtlSeconds);
    this.notices.notify({ familyId: outcome.reusedFamily });
    throw new Unauthorized(
      'TOKEN_REUSED',
      'The refresh token was already used; every session of this login is revoked.',
    );
  }

  /**
   * Logout ends the login of the access token in use: its refresh token family (refresh tokens
   * and access tokens) and the token itself. The refresh token sent ends its family too when it
   * is the user's; an unknown or foreign one changes nothing more and is not reported.
   */
  async logout(principal: Principal, refreshToken: string): Promise<void> {
    const families = await this.dataSource.transaction(async (manager) => {
      // The user then their tokens, as rotate() locks them: a rotation of the family in flight
      // commits before (its new token is revoked below) or finds its token revoked.
      await manager.findOne(User, {
        where: { id: principal.id },
        lock: { mode: 'pessimistic_write' },
      });
      const presented = REFRESH_TOKEN.test(refreshToken)
        ? await manager.findOne(RefreshToken, {
            where: { tokenHash: sha256(refreshToken), userId: principal.id },
          })
        : null;
      const ids = [
        ...new Set([principal.tokenFamilyId, presented?.familyId].filter((id) => id !== undefined)),
      ];
      if (ids.length > 0) {
        await manager.update(
          RefreshToken,
          { userId: principal.id, familyId: In(ids), revokedAt: IsNull() },
          { revokedAt: new Date() },
        );
      }
      // Last: a revocation Redis refuses (503) rolls the logout back rather than answering 204
      // with the login's access tokens still valid.
      if (principal.tokenId && principal.tokenExpiresAt) {
        await this.revocations.revokeToken(principal.tokenId, principal.tokenExpiresAt);
      }
      for (const id of ids) {
        await this.revocations.revokeFamily(id, this.jwtConfig.accessTtlSeconds);
      }
      return ids;
    });
    // A token's sockets are in its family's room; one without a family is reached by its jti.
    if (principal.tokenId && !principal.tokenFamilyId) {
      this.notices.notify({ tokenId: principal.tokenId });
    }
    for (const familyId of families) this.notices.notify({ familyId });
  }

  /**
   * Every access token of the user issued until now stops working. Called last inside the
   * transaction of a change that ends sessions, so that a revocation Redis refuses (503) rolls the
   * change back instead of committing it with the tokens still valid.
   */
  async revokeAccessTokens(userId: string): Promise<void> {
    await this.revocations.revokeUser(userId, this.jwtConfig.accessTtlSeconds);
  }

  /** Every refresh token and access token of the user stops working (deactivation, password change...). */
  async revokeAll(userId: string): Promise<void> {
    await this.dataSource.manager.update(
      RefreshToken,
      { userId, revokedAt: IsNull() },
      { revokedAt: new Date() },
    );
    await this.revocations.revokeUser(userId, this.jwtConfig.accessTtlSeconds);
    this.notices.notify({ userId });
  }

  private async revokeFamily(familyId: string): Promise<void> {
    await this.dataSource.manager.update(
      RefreshToken,
      { familyId, revokedAt: IsNull() },
      { revokedAt: new Date() },
    );
  }
}

function invalidRefreshToken(): Unauthorized {
  return new Unauthorized('INVALID_TOKEN', 'The refresh token is not valid.');
}

function isAccessClaims(payload: unknown): payload is AccessClaims {
  if (typeof payload !== 'object' || payload === null) return false;
  const claims = payload as Record<string, unknown>;
  return (
    typeof claims.sub === 'string' &&
    typeof claims.jti === 'string' &&
    (claims.fid === undefined || typeof claims.fid === 'string') &&
    typeof claims.iat === 'number' &&
    typeof claims.exp === 'number' &&
    typeof claims.iss === 'string' &&
    (typeof claims.aud === 'string' || Array.isArray(claims.aud)) &&
    (ROLES as readonly unknown[]).includes(claims.role)
  );
}
