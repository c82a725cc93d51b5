import { JobDelivery, PermanentJobError, QueuedJob } from './job-queue';
import { MemoryJobQueue } from './memory-job-queue';

function job(id: string, overrides: Partial<QueuedJob> = {}): QueuedJob {
  return { id, delayMs: 0, priority: null, attempts: 3, ...overrides };
}

/** Resolves once `count` deliveries were made; bounded so a hang fails the test. */
function deliveries(count: number) {
  const seen: JobDelivery[] = [];
  let done: () => void = () => {};
  const all = new Promise<void>((resolve, reject) => {
    done = resolve;
    setTimeout(() => reject(new Error(`only ${seen.length} deliveries`)), 5000).unref();
  });
  return {
    seen,
    all,
    record(delivery: JobDelivery) {
      seen.push(delivery);
      if (seen.length === count) done();
    },
  };
}

describe(MemoryJobQueue.name, () => {
  let queue: MemoryJobQueue;

  beforeEach(() => {
    queue = new MemoryJobQueue(5);
  });

  afterEach(() => queue.stop(1000));

  it('runs jobs by priority (1 first, unprioritised last), in arrival order within one', async () => {
    const log = deliveries(4);
    await queue.add(job('late'));
    await queue.add(job('p5', { priority: 5 }));
    await queue.add(job('p1', { priority: 1 }));
    await queue.add(job('p5-second', { priority: 5 }));
    queue.process(1, (delivery) => {
      log.record(delivery);
      return Promise.resolve();
    });
    await log.all;
    expect(log.seen.map((d) => d.id)).toEqual(['p1', 'p5', 'p5-second', 'late']);
  });

  it('retries a failing job until its last attempt, which it marks final', async () => {
    const log = deliveries(3);
    await queue.add(job('flaky'));
    queue.process(1, (delivery) => {
      log.record(delivery);
      return Promise.reject(new Error('boom'));
    });
    await log.all;
    expect(log.seen.map((d) => d.finalAttempt)).toEqual([false, false, true]);
  });

  it('does not retry a permanent failure', async () => {
    const log = deliveries(1);
    await queue.add(job('refused'));
    await queue.add(job('next'));
    const ran: string[] = [];
    queue.process(1, (delivery) => {
      ran.push(delivery.id);
      if (delivery.id === 'next') log.record(delivery);
      return delivery.id === 'refused'
        ? Promise.reject(new PermanentJobError('no'))
        : Promise.resolve();
    });
    await log.all;
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(ran).toEqual(['refused', 'next']);
  });

  it('adds an id once while it is queued, and forgets a removed one', async () => {
    await queue.add(job('a', { delayMs: 60_000 }));
    await queue.add(job('a', { delayMs: 60_000 }));
    expect(await queue.counts()).toEqual({ waiting: 0, active: 0, delayed: 1 });
    await queue.remove('a');
    expect(await queue.counts()).toEqual({ waiting: 0, active: 0, delayed: 0 });
  });

  it('keeps at most `concurrency` jobs running, and stop waits for them', async () => {
    let running = 0;
    let peak = 0;
    const log = deliveries(6);
    for (const id of ['1', '2', '3', '4', '5', '6']) await queue.add(job(id));
    queue.process(2, async (delivery) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((resolve) => setTimeout(resolve, 10));
      running--;
      log.record(delivery);
    });
    await log.all;
    await queue.stop(1000);
    expect(peak).toBe(2);
    expect(running).toBe(0);
  });
});
