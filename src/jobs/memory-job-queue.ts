import { Injectable, Logger } from '@nestjs/common';
import { JobHandler, JobQueue, PermanentJobError, QueueCounts, QueuedJob } from './job-queue';

interface Entry {
  job: QueuedJob;
  /** Attempts made so far. */
  attemptsMade: number;
  seq: number;
}

/**
 * Embedded mode: the same contract as Bull, in this process: delays, priorities, retries with
 * exponential backoff and a concurrency limit. Jobs queued here die with the process; the runner
 * requeues the rows still queued or active at the next start.
 */
@Injectable()
export class MemoryJobQueue extends JobQueue {
  private readonly logger = new Logger('JobQueue');
  private readonly waiting: Entry[] = [];
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly known = new Set<string>();
  private readonly running = new Set<Promise<void>>();
  private readonly runningIds = new Set<string>();
  private handler?: JobHandler;
  private concurrency = 1;
  private stopped = false;
  private seq = 0;

  constructor(private readonly backoffMs: number) {
    super();
  }

  add(job: QueuedJob): Promise<void> {
    if (!this.known.has(job.id)) {
      this.known.add(job.id);
      this.schedule({ job, attemptsMade: 0, seq: this.seq++ }, job.delayMs);
    }
    return Promise.resolve();
  }

  remove(id: string): Promise<void> {
    const index = this.waiting.findIndex((entry) => entry.job.id === id);
    if (index >= 0) this.waiting.splice(index, 1);
    clearTimeout(this.timers.get(id));
    this.timers.delete(id);
    if (index >= 0 || !this.isRunning(id)) this.known.delete(id);
    return Promise.resolve();
  }

  counts(): Promise<QueueCounts> {
    return Promise.resolve({
      waiting: this.waiting.length,
      active: this.running.size,
      delayed: this.timers.size,
    });
  }

  process(concurrency: number, handler: JobHandler): void {
    this.handler = handler;
    this.concurrency = concurrency;
    this.pump();
  }

  async stop(timeoutMs: number): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    const finished = await Promise.race([
      Promise.all(this.running).then(() => true),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), timeoutMs).unref()),
    ]);
    if (!finished) this.logger.warn(`jobs still running after ${timeoutMs} ms; abandoning them`);
  }

  private isRunning(id: string): boolean {
    return this.runningIds.has(id);
  }

  private schedule(entry: Entry, delayMs: number): void {
    if (this.stopped) return;
    if (delayMs <= 0) {
      this.enqueue(entry);
      return;
    }
    const timer = setTimeout(() => {
      this.timers.delete(entry.job.id);
      this.enqueue(entry);
    }, delayMs);
    this.timers.set(entry.job.id, timer);
  }

  /** Priority 1 first, unprioritized last; arrival order within each. */
  private enqueue(entry: Entry): void {
    const rank = (e: Entry) => e.job.priority ?? Number.MAX_SAFE_INTEGER;
    let index = this.waiting.length;
    while (
      index > 0 &&
      (rank(this.waiting[index - 1]) > rank(entry) ||
        (rank(this.waiting[index - 1]) === rank(entry) && this.waiting[index - 1].seq > entry.seq))
    )
      index--;
    this.waiting.splice(index, 0, entry);
    this.pump();
  }

  private pump(): void {
    while (this.handler && !this.stopped && this.running.size < this.concurrency) {
      const entry = this.waiting.shift();
      if (!entry) return;
      const run = this.attempt(entry).finally(() => {
        this.running.delete(run);
        this.pump();
      });
      this.running.add(run);
    }
  }

  private async attempt(entry: Entry): Promise<void> {
    const { job } = entry;
    const finalAttempt = entry.attemptsMade + 1 >= job.attempts;
    this.runningIds.add(job.id);
    try {
      await (this.handler as JobHandler)({ id: job.id, finalAttempt });
      this.known.delete(job.id);
    } catch (error) {
      entry.attemptsMade++;
      if (finalAttempt || error instanceof PermanentJobError) {
        this.known.delete(job.id);
      } else {
        this.schedule(entry, this.backoffMs * 2 ** (entry.attemptsMade - 1));
      }
    } finally {
      this.runningIds.delete(job.id);
    }
  }
}
