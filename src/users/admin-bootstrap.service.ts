import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { AppConfig } from '../config/app-config';
import { UsersService } from './users.service';

/** ADMIN_EMAIL + ADMIN_PASSWORD: the first admin, created at start when that email is free. */
@Injectable()
export class AdminBootstrapService implements OnApplicationBootstrap {
  private readonly logger = new Logger(AdminBootstrapService.name);

  constructor(
    private readonly users: UsersService,
    private readonly config: ConfigService<AppConfig, true>,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const { email, password } = this.config.get('admin', { infer: true });
    if (!email || !password) return;
    if (await this.users.ensureAdmin(email, password))
      this.logger.log(`created the admin ${email}`);
  }
}
