import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { AppConfig } from '../../config/app-config';

/** Feature flags from FEATURE_* (fixed for the life of the process). */
@Injectable()
export class FeaturesService {
  private readonly flags: Readonly<Record<string, boolean>>;

  constructor(config: ConfigService<AppConfig, true>) {
    this.flags = Object.freeze({ ...config.get('features', { infer: true }) });
  }

  isEnabled(name: string): boolean {
    return this.flags[name] === true;
  }

  all(): Readonly<Record<string, boolean>> {
    return this.flags;
  }
}
