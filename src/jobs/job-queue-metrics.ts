import { Injectable } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { DataSource } from 'typeorm';
import { MetricsService } from '../common/metrics/metrics.service';
import { JobQueue } from './job-queue';
import { Job } from './job.entity';

/**
 * How long a scrape waits for the failed count: well inside Prometheus's 10 s scrape timeout, so
 * a hung database leaves this one series out instead of the whole scrape failing.
 */
export const SCRAPE_QUERY_TIMEOUT_MS = 1000;

function withinScrape<T>(query: Promise<T>): Promise<T> {
  return Promise.race([
    query,
    sleep(SCRAPE_QUERY_TIMEOUT_MS, undefined, { ref: false }).then(() => {
      throw new Error(`no answer within ${SCRAPE_QUERY_TIMEOUT_MS} ms`);
    }),
  ]);
}

/**
 * Queue depth on every scrape: waiting, delayed and active from the queue, failed (the dead-letter
 * list) from PostgreSQL, where failed jobs are kept. A state that cannot be read is left out.
 */
@Injectable()
export class JobQueueMetrics {
  constructor(queue: JobQueue, dataSource: DataSource, metrics: MetricsService) {
    metrics.gauge({
      name: 'job_queue_jobs',
      help: 'Jobs in the queue by state (waiting, delayed, active; failed: out of attempts).',
      labelNames: ['state'],
      async collect() {
        this.reset();
        const [counts, failed] = await Promise.allSettled([
          queue.counts(),
          withinScrape(dataSource.getRepository(Job).countBy({ status: 'failed' })),
        ]);
        if (counts.status === 'fulfilled') {
          for (const [state, value] of Object.entries<number>({ ...counts.value })) {
            this.set({ state }, value);
          }
        }
        if (failed.status === 'fulfilled') this.set({ state: 'failed' }, failed.value);
      },
    });
  }
}
