import { Provider } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { createTransport, Transporter } from 'nodemailer';
import { AppConfig } from '../../config/app-config';

/** nodemailer's transport: SMTP with SMTP_URL; without it, JSON messages that are logged and kept. */
export const MAIL_TRANSPORT = Symbol('MAIL_TRANSPORT');

export const mailTransportProvider: Provider = {
  provide: MAIL_TRANSPORT,
  inject: [ConfigService],
  useFactory: (config: ConfigService<AppConfig, true>): Transporter => {
    const { url } = config.get('smtp', { infer: true });
    return url ? createTransport(url) : createTransport({ jsonTransport: true });
  },
};
