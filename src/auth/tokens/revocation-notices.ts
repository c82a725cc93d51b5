import { Injectable, Logger } from '@nestjs/common';

/**
 * What was revoked: one access token, the tokens of a refresh token family (a logout, a replay)
 * or every token of a user issued until now.
 */
export type Revocation = { tokenId: string } | { familyId: string } | { userId: string };

/**
 * Tells this process that tokens were revoked, after the revocation is stored, so sessions held
 * open outside HTTP requests (sockets) end at once; the realtime gateway relays it to the other
 * instances through its Socket.IO adapter.
 */
@Injectable()
export class RevocationNotices {
  private readonly logger = new Logger(RevocationNotices.name);
  private readonly listeners = new Set<(revocation: Revocation) => void>();

  /** Returns the unsubscribe. */
  subscribe(listener: (revocation: Revocation) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Never throws: the revocation itself has succeeded. */
  notify(revocation: Revocation): void {
    for (const listener of this.listeners) {
      try {
        listener(revocation);
      } catch (error) {
        this.logger.error({ err: error }, 'revocation listener failed');
      }
    }
  }
}
