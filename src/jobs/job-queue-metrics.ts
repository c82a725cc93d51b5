import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { MetricsService } from '../common/metrics/metrics.service';
import { JobQueue } from './job-queue';
import { Job } from './job.entity';

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
          dataSource.getRepository(Job).countBy({ status: 'failed' }),
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
