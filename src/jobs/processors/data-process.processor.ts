import { Injectable } from '@nestjs/common';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { PermanentJobError } from '../job-queue';
import { JobPayloads, JobResults } from '../job-payloads';
import { JobContext, JobProcessor } from './job-processor';

const CHUNKS = 10;

/** Count, sum, mean, min and max, in ten chunks with progress after each. */
@Injectable()
export class DataProcessProcessor extends JobProcessor<'data.process'> {
  readonly type = 'data.process';

  async process(
    { items }: JobPayloads['data.process'],
    context: JobContext,
  ): Promise<JobResults['data.process']> {
    let sum = 0;
    let min = Infinity;
    let max = -Infinity;
    const chunkSize = Math.ceil(items.length / CHUNKS);
    for (let start = 0; start < items.length; start += chunkSize) {
      for (const item of items.slice(start, start + chunkSize)) {
        sum += item;
        if (item < min) min = item;
        if (item > max) max = item;
      }
      const done = Math.min(items.length, start + chunkSize);
      if (done < items.length) {
        await context.progress(Math.floor((done / items.length) * 100));
        // Other jobs and requests run between chunks.
        await yieldToEventLoop();
      }
    }
    // Enqueueing refuses such items; a job queued before that rule would report a sum of null.
    if (!Number.isFinite(sum)) {
      throw new PermanentJobError(`The sum of the items is beyond ±${Number.MAX_VALUE}.`);
    }
    return { count: items.length, sum, mean: sum / items.length, min, max };
  }
}
