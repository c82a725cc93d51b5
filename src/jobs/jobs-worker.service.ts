import {
  BeforeApplicationShutdown,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { ShutdownState } from '../common/lifecycle/shutdown-state';
import { AppConfig } from '../config/app-config';
import { JobQueue } from './job-queue';
import { JobRunner } from './job-runner';

const RECOVERY_INTERVAL_MS = 60_000;

/**
 * Takes jobs from the queue in this process (the worker, or the API with an in-process worker).
 * On shutdown it stops taking jobs and lets the running ones finish within what is left of
 * SHUTDOWN_TIMEOUT_MS; what is still running then is released and runs again elsewhere.
 */
@Injectable()
export class JobsWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('Jobs');
  private readonly concurrency: number;
  private readonly shutdownTimeoutMs: number;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly queue: JobQueue,
    private readonly runner: JobRunner,
    private readonly shutdown: ShutdownState,
    config: ConfigService<AppConfig, true>,
  ) {
    this.concurrency = config.get('jobs', { infer: true }).concurrency;
    this.shutdownTimeoutMs = config.get('shutdown', { infer: true }).timeoutMs;
  }

  async onApplicationBootstrap(): Promise<void> {
    this.queue.process(this.concurrency, this.runner.run);
    await this.recover(true);
    this.timer = setInterval(() => void this.recover(false), RECOVERY_INTERVAL_MS).unref();
    this.logger.log(`taking jobs, ${this.concurrency} at a time`);
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    // What the HTTP drain left of SHUTDOWN_TIMEOUT_MS (all of it in the worker process).
    await this.queue.stop(this.shutdown.remainingMs(this.shutdownTimeoutMs));
  }

  private async recover(includeActive: boolean): Promise<void> {
    try {
      const count = await this.runner.recover(includeActive);
      if (count > 0) this.logger.log(`${count} jobs put back in the queue`);
    } catch (error) {
      // The queue or the database is down; the next pass tries again.
      this.logger.warn({ err: error }, 'job recovery failed');
    }
  }
}
