import { Inject, Injectable, Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { Transporter } from 'nodemailer';
import { AppConfig } from '../../config/app-config';
import { UsersService } from '../../users/users.service';
import { JobResults } from '../job-payloads';
import { JobContext, JobProcessor } from './job-processor';
import { MAIL_TRANSPORT } from './mail-transport';

/** The welcome email to the job's owner. */
@Injectable()
export class EmailWelcomeProcessor extends JobProcessor<'email.welcome'> {
  readonly type = 'email.welcome';
  private readonly logger = new Logger('Mail');
  private readonly from: string;

  constructor(
    @Inject(MAIL_TRANSPORT) private readonly transport: Transporter,
    private readonly users: UsersService,
    config: ConfigService<AppConfig, true>,
  ) {
    super();
    this.from = config.get('smtp', { infer: true }).from;
  }

  async process(_payload: object, context: JobContext): Promise<JobResults['email.welcome']> {
    const user = await this.users.getResponse(context.ownerId);
    const subject = 'Welcome to Keel';
    const info = (await this.transport.sendMail({
      from: this.from,
      to: user.email,
      subject,
      text: `Hello ${user.name},\n\nyour Keel account is ready.\n`,
      // The same id on every attempt: a resend after a crash is recognisable as a duplicate.
      messageId: `<${context.id}@keel>`,
    })) as { messageId: string; message?: unknown };
    // The JSON transport returns the message itself: log it and keep it in the job's result.
    const message =
      typeof info.message === 'string' ? (JSON.parse(info.message) as unknown) : undefined;
    if (message)
      this.logger.log(
        { jobId: context.id, to: user.email, subject },
        'email (not sent: no SMTP_URL)',
      );
    return { messageId: info.messageId, to: user.email, subject, ...(message ? { message } : {}) };
  }
}
