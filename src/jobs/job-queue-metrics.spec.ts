import type { DataSource } from 'typeorm';
import { MetricsService } from '../common/metrics/metrics.service';
import { JobQueue, QueueCounts } from './job-queue';
import { JobQueueMetrics } from './job-queue-metrics';

const COUNTS: QueueCounts = { waiting: 2, delayed: 1, active: 0 };

function scrapeWith(countFailed: () => Promise<number>): Promise<string> {
  const metrics = new MetricsService();
  const queue = { counts: () => Promise.resolve(COUNTS) } as unknown as JobQueue;
  const dataSource = {
    getRepository: () => ({ countBy: countFailed }),
  } as unknown as DataSource;
  new JobQueueMetrics(queue, dataSource, metrics);
  return metrics.registry.getSingleMetricAsString('job_queue_jobs');
}

describe(JobQueueMetrics.name, () => {
  it('exports the queue states and the failed count', async () => {
    const text = await scrapeWith(() => Promise.resolve(7));
    expect(text).toMatch(/^job_queue_jobs\{state="waiting"\} 2$/m);
    expect(text).toMatch(/^job_queue_jobs\{state="delayed"\} 1$/m);
    expect(text).toMatch(/^job_queue_jobs\{state="failed"\} 7$/m);
  });

  it('answers without the failed count when the database never does (the scrape does not hang)', async () => {
    const text = await scrapeWith(() => new Promise<number>(() => undefined));
    expect(text).toMatch(/^job_queue_jobs\{state="waiting"\} 2$/m);
    expect(text).not.toContain('state="failed"');
  });
});
