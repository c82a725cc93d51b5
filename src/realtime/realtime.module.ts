import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { TokensModule } from '../auth/tokens/tokens.module';
import { LongLivedConnections } from '../common/lifecycle/long-lived-connections';
import { UsersModule } from '../users/users.module';
import { RealtimeController } from './realtime.controller';
import { RealtimeGateway } from './realtime.gateway';
import { SocketAuthenticator } from './socket-authenticator';

/** Socket.IO on /realtime; the server itself is configured by RealtimeIoAdapter (app-setup). */
@Module({
  imports: [AuthModule, TokensModule, UsersModule],
  controllers: [RealtimeController],
  providers: [
    RealtimeGateway,
    SocketAuthenticator,
    { provide: LongLivedConnections, useExisting: RealtimeGateway },
  ],
})
export class RealtimeModule {}
