/** Claims of an access token passport-jwt has verified (signature, algorithm, iss, aud, exp). */
export interface VerifiedClaims {
  exp: number;
}

const MAX_ENTRIES = 10_000;

/**
 * Access tokens already verified by this process, by their exact text, until they expire: a
 * client sends the same token on every request, and verifying its signature again is most of
 * the cost of authenticating it. Only the signature check is skipped; expiry is checked on every
 * hit and the revocation lists on every request. The oldest entry makes room when it is full.
 */
export class VerifiedTokens<C extends VerifiedClaims> {
  private readonly entries = new Map<string, C>();

  get(token: string): C | undefined {
    const claims = this.entries.get(token);
    if (claims && claims.exp * 1000 <= Date.now()) {
      this.entries.delete(token);
      return undefined;
    }
    return claims;
  }

  add(token: string, claims: C): void {
    if (this.entries.size >= MAX_ENTRIES) {
      this.entries.delete(this.entries.keys().next().value as string);
    }
    this.entries.set(token, claims);
  }
}
