/**
 * Revoked access tokens, checked on every authenticated request without touching the database:
 * single tokens by jti, the tokens of a refresh token family (a logout, a replayed refresh token)
 * and all of a user's tokens issued before a moment (deactivation, deletion, role or password
 * change). Entries live as long as an access token can.
 */
export abstract class RevocationStore {
  /** Revokes one token until it would have expired anyway (seconds since the epoch). */
  abstract revokeToken(jti: string, expiresAt: number): Promise<void>;

  /** Revokes every token of the user issued before now (to the millisecond), for `ttlSeconds`. */
  abstract revokeUser(userId: string, ttlSeconds: number): Promise<void>;

  /** Revokes every token issued with a refresh token family (logout, replay), for `ttlSeconds`. */
  abstract revokeFamily(familyId: string, ttlSeconds: number): Promise<void>;

  /**
   * Whether the token (its jti, user, issue time in seconds, fractional, and refresh token
   * family when it has one) has been revoked.
   */
  abstract isRevoked(
    jti: string,
    userId: string,
    issuedAt: number,
    familyId?: string,
  ): Promise<boolean>;
}
