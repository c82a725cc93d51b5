import { Logger } from '@nestjs/common';
import Bull from 'bull';
import { randomUUID } from 'node:crypto';
import { BullConnection, BullJobQueue, createBullClient } from '../src/jobs/bull-job-queue';
import { describeWithSharedServices } from './helpers/shared-services';
import { redisUrl } from './helpers/services';

describeWithSharedServices('BullJobQueue on Redis', () => {
  // The queue is used outside Nest here; its expected warnings would only be noise.
  beforeAll(() => {
    Logger.overrideLogger(false);
  });

  it('shuts down while its blocking connection is not answering: no unhandled rejection, every connection closed', async () => {
    const url = (await redisUrl()) as string;
    const clients = new Map<BullConnection, ReturnType<typeof createBullClient>>();
    const queue = new Bull(`shutdown-${randomUUID()}`, {
      prefix: 'test',
      createClient: (type: BullConnection) => {
        // Nothing listens on port 1: process()'s CLIENT SETNAME, and the reconnection the
        // shutdown forces to stop waiting for jobs, are both still pending when it closes them.
        const client = createBullClient(type === 'bclient' ? 'redis://127.0.0.1:1' : url, type);
        clients.set(type, client);
        return client;
      },
    });
    const jobs = new BullJobQueue(queue);
    await new Promise((resolve) => queue.client.once('ready', resolve));

    // Either rejection, unhandled, would end the process; Jest fails the test on one instead.
    jobs.process(1, () => Promise.resolve());
    await new Promise((resolve) => setTimeout(resolve, 100));
    await jobs.stop(200);
    await jobs.onApplicationShutdown();

    // disconnect() ends a connection once its socket has closed: bounded wait.
    const statuses = () => Object.fromEntries([...clients].map(([type, c]) => [type, c.status]));
    for (let i = 0; i < 40 && Object.values(statuses()).some((s) => s !== 'end'); i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(statuses()).toEqual({ client: 'end', subscriber: 'end', bclient: 'end' });
  }, 10_000);
});
