import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { JwtModule } from '@nestjs/jwt';
import type Redis from 'ioredis';
import { AppConfig } from '../../config/app-config';
import { REDIS } from '../../redis/redis.module';
import { MemoryRevocationStore } from './memory-revocation-store';
import { RedisRevocationStore } from './redis-revocation-store';
import { RevocationNotices } from './revocation-notices';
import { RevocationStore } from './revocation-store';
import { TokensService } from './tokens.service';

@Module({
  imports: [
    JwtModule.registerAsync({
      inject: [ConfigService],
      useFactory: (config: ConfigService<AppConfig, true>) => {
        const jwt = config.get('jwt', { infer: true });
        return {
          secret: jwt.secret,
          // TokensService sets iat and exp itself (iat to the millisecond).
          signOptions: {
            algorithm: 'HS256',
            issuer: jwt.issuer,
            audience: jwt.audience,
          },
        };
      },
    }),
  ],
  providers: [
    TokensService,
    RevocationNotices,
    {
      provide: RevocationStore,
      inject: [REDIS, ConfigService],
      useFactory: (redis: Redis | undefined, config: ConfigService<AppConfig, true>) =>
        redis
          ? new RedisRevocationStore(redis, config.get('redis', { infer: true }).prefix)
          : new MemoryRevocationStore(),
    },
  ],
  exports: [TokensService, RevocationNotices],
})
export class TokensModule {}
