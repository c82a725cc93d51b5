import { Injectable } from '@nestjs/common';

/** Whether the process has begun shutting down; readiness reads it. */
@Injectable()
export class ShutdownState {
  private shuttingDown = false;

  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  begin(): void {
    this.shuttingDown = true;
  }
}
