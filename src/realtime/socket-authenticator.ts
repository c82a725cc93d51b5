import { Injectable } from '@nestjs/common';
import { AuthGuard } from '../auth/auth.guard';
import { JwtStrategy } from '../auth/jwt.strategy';
import { Principal } from '../auth/principal';
import { NotFound, Unauthorized } from '../common/errors/domain-errors';
import { UsersService } from '../users/users.service';
import { SocketData } from './realtime-events';

/** Authenticates a Socket.IO handshake by the access token in `auth.token`. */
@Injectable()
export class SocketAuthenticator {
  constructor(
    private readonly jwtStrategy: JwtStrategy,
    private readonly users: UsersService,
  ) {}

  /**
   * The session of a handshake: a token HTTP would accept, of a user who still exists and is
   * active (the messages a socket sends carry the user's name, read here once).
   */
  async authenticate(auth: unknown): Promise<SocketData> {
    const principal = await this.verify(auth);
    const user = await this.users.getResponse(principal.id).catch((error: unknown) => {
      if (error instanceof NotFound) throw invalidToken();
      throw error;
    });
    if (!user.isActive || !principal.tokenId || principal.tokenExpiresAt === undefined) {
      throw invalidToken();
    }
    return {
      user: { id: user.id, name: user.name, role: principal.role },
      tokenId: principal.tokenId,
      tokenExpiresAt: principal.tokenExpiresAt,
      tokenFamilyId: principal.tokenFamilyId,
    };
  }

  /** The token alone, exactly as a bearer token on HTTP: signature, claims, revocation. */
  verify(auth: unknown): Promise<Principal> {
    const token = (auth as { token?: unknown } | null | undefined)?.token;
    if (typeof token !== 'string' || token === '') {
      return Promise.reject(
        new Unauthorized('UNAUTHORIZED', 'Send the access token in the handshake: auth.token.'),
      );
    }
    return AuthGuard.authenticateBearer(this.jwtStrategy, {
      headers: { authorization: `Bearer ${token}` },
    });
  }
}

function invalidToken(): Unauthorized {
  return new Unauthorized('INVALID_TOKEN', 'The access token is not valid.');
}
