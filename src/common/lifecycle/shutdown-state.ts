import { Injectable } from '@nestjs/common';

/**
 * Whether the process has begun shutting down (readiness reads it), and what is left of
 * SHUTDOWN_TIMEOUT_MS once the drain has started: in-flight requests and running jobs share it,
 * so an API with an in-process worker ends within the same budget as one without.
 */
@Injectable()
export class ShutdownState {
  private shuttingDown = false;
  private deadline?: number;

  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  begin(): void {
    this.shuttingDown = true;
  }

  /** The drain starts (after SHUTDOWN_DELAY_MS): everything must be done within `timeoutMs`. */
  drainFor(timeoutMs: number): void {
    this.deadline = Date.now() + timeoutMs;
  }

  /** What is left of the drain's budget; all of `timeoutMs` when no drain has started. */
  remainingMs(timeoutMs: number): number {
    return this.deadline === undefined ? timeoutMs : Math.max(0, this.deadline - Date.now());
  }
}
