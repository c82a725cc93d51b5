/**
 * Revoked access tokens, checked on every authenticated request without touching the database:
 * single tokens by jti (logout) and all of a user's tokens issued before a moment (deactivation,
 * deletion, role or password change). Entries live as long as an access token can.
 */
export abstract class RevocationStore {
  /** Revokes one token until it would have expired anyway (seconds since the epoch). */
  abstract revokeToken(jti: string, expiresAt: number): Promise<void>;

  /** Revokes every token of the user issued before now (to the millisecond), for `ttlSeconds`. */
  abstract revokeUser(userId: string, ttlSeconds: number): Promise<void>;

  /** Whether the token (its jti, user and issue time in seconds, fractional) has been revoked. */
  abstract isRevoked(jti: string, userId: string, issuedAt: number): Promise<boolean>;
}
