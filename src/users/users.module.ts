import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { TokensModule } from '../auth/tokens/tokens.module';
import { AdminBootstrapService } from './admin-bootstrap.service';
import { PasswordHasher } from './password-hasher';
import { User } from './user.entity';
import { UsersV2Controller } from './users-v2.controller';
import { UsersController } from './users.controller';
import { UsersService } from './users.service';

@Module({
  imports: [TypeOrmModule.forFeature([User]), TokensModule],
  controllers: [UsersController, UsersV2Controller],
  providers: [UsersService, PasswordHasher, AdminBootstrapService],
  exports: [UsersService],
})
export class UsersModule {}
