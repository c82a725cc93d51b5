import { Injectable, Logger, Provider } from '@nestjs/common';
import { UserResponse } from '../users/dto/user-response.dto';

/**
 * Where registration hands off the welcome email. The jobs module provides the real adapter
 * (an `email.welcome` job); until it is installed, the default only logs the hand-off.
 */
export abstract class WelcomeEmailPort {
  abstract queue(user: UserResponse): Promise<void>;
}

@Injectable()
class LogOnlyWelcomeEmail extends WelcomeEmailPort {
  private readonly logger = new Logger('WelcomeEmail');

  queue(user: UserResponse): Promise<void> {
    this.logger.log({ userId: user.id }, 'welcome email not sent: no job queue is installed');
    return Promise.resolve();
  }
}

export const defaultWelcomeEmail: Provider = {
  provide: WelcomeEmailPort,
  useClass: LogOnlyWelcomeEmail,
};
