import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { PassportStrategy } from '@nestjs/passport';
import { createSecretKey } from 'node:crypto';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { AppConfig } from '../config/app-config';
import { Principal } from './principal';
import { TokensService } from './tokens/tokens.service';

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
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      // A KeyObject, built once: given a string, jsonwebtoken first tries (and fails) to parse it
      // as a public key on every verification, a fifth of the CPU of an authenticated request.
      secretOrKey: createSecretKey(Buffer.from(jwt.secret)) as unknown as string,
      algorithms: ['HS256'],
      issuer: jwt.issuer,
      audience: jwt.audience,
      ignoreExpiration: false,
    });
  }

  validate(payload: unknown): Promise<Principal> {
    return this.tokens.principalOf(payload);
  }
}
