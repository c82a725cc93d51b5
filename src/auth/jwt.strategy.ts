import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { PassportStrategy } from '@nestjs/passport';
import { createSecretKey } from 'node:crypto';
import { Strategy } from 'passport-jwt';
import { AppConfig } from '../config/app-config';
import type { IncomingHttpHeaders } from 'node:http';
import { Principal } from './principal';
import { TokensService } from './tokens/tokens.service';
import { VerifiedTokens } from './verified-tokens';

/**
 * Bearer access tokens: HS256 only (the token's own `alg` is never trusted), issuer and audience
 * checked by jsonwebtoken, then every claim and the revocation lists by TokensService.
 */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  constructor(
    config: ConfigService<AppConfig, true>,
    private readonly tokens: TokensService,
  ) {
    const jwt = config.get('jwt', { infer: true });
    super({
      // The one reading of the header (passport-jwt's own takes `Bearer <token> <anything>`).
      jwtFromRequest: (request: { headers: IncomingHttpHeaders }) => bearerToken(request) ?? null,
      // A KeyObject, built once: given a string, jsonwebtoken first tries (and fails) to parse it
      // as a public key on every verification, a fifth of the CPU of an authenticated request.
      secretOrKey: createSecretKey(Buffer.from(jwt.secret)) as unknown as string,
      algorithms: ['HS256'],
      issuer: jwt.issuer,
      audience: jwt.audience,
      ignoreExpiration: false,
      passReqToCallback: true,
    });
  }

  /** Tokens verified before, so a repeat skips passport and the signature check. */
  readonly verified = new VerifiedTokens<{ exp: number; sub?: unknown }>();

  validate(request: { headers: IncomingHttpHeaders }, payload: unknown): Promise<Principal> {
    const token = bearerToken(request);
    if (token && hasExpiry(payload)) this.verified.add(token, payload);
    return this.tokens.principalOf(payload);
  }
}

const BEARER = /^Bearer ([^\s]+)$/i;

/** The token of an `Authorization: Bearer <token>` header: one space, one token, nothing after. */
export function bearerToken(request: { headers: IncomingHttpHeaders }): string | undefined {
  return BEARER.exec(request.headers.authorization ?? '')?.[1];
}

function hasExpiry(payload: unknown): payload is { exp: number } {
  return typeof (payload as { exp?: unknown } | null)?.exp === 'number';
}
