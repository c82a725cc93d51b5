import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { UsersModule } from '../users/users.module';
import { ApiKeysModule } from './api-keys/api-keys.module';
import { AuthController } from './auth.controller';
import { AuthGuard } from './auth.guard';
import { AuthService } from './auth.service';
import { JwtStrategy } from './jwt.strategy';
import { TokensModule } from './tokens/tokens.module';
import { defaultWelcomeEmail } from './welcome-email.port';

@Module({
  imports: [TokensModule, UsersModule, ApiKeysModule],
  controllers: [AuthController],
  providers: [
    AuthService,
    JwtStrategy,
    defaultWelcomeEmail,
    { provide: APP_GUARD, useClass: AuthGuard },
  ],
})
export class AuthModule {}
