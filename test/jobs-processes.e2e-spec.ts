import { createHmac, randomUUID } from 'node:crypto';
import { createServer, IncomingHttpHeaders, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import request from 'supertest';
import { JobResponse } from '../src/jobs/dto/job-response.dto';
import {
  KeelProcess,
  killProcess,
  spawnKeel,
  spawnWorker,
  waitUntilServing,
} from './helpers/child-process';
import { bearer, register, Session } from './helpers/identity';
import { createJob, JOB_TEST_ENV, postJob, waitForJob } from './helpers/jobs';
import { PrivateRedis } from './helpers/private-redis';
import { problem, problemOf } from './helpers/problem';
import { redisUrl } from './helpers/services';
import { describeWithSharedServices } from './helpers/shared-services';
import { startTestApp, TestApp } from './helpers/test-app';
import { createTestDatabase, TestDatabase } from './helpers/test-database';

const SIGNING_SECRET = 'jobs-processes-e2e-signing-secret-0123456789';

/** Polls `check` until it returns a value; fails naming `what` after `timeoutMs`. */
async function until<T>(
  what: string | (() => string),
  check: () => T | undefined | Promise<T | undefined>,
  timeoutMs: number,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await check();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error(`${typeof what === 'string' ? what : what()}: not within ${timeoutMs} ms`);
}

/** Rejects after `timeoutMs`: a bound on a wait that would otherwise hang the suite. */
function within<T>(what: string, promise: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

interface Delivery {
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * A webhook target on 127.0.0.1 that records every delivery, holds the first one open without
 * answering (the job stays active on the worker that sent it) and answers 200 to the others.
 */
class HoldingWebhookTarget {
  readonly received: Delivery[] = [];
  private readonly server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      this.received.push({ headers: req.headers, body: Buffer.concat(chunks).toString() });
      // The first request is left unanswered: its connection ends only when its sender dies.
      if (this.received.length > 1) res.writeHead(200).end();
    });
  });
  url = '';

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

async function json<T>(response: Response): Promise<T> {
  return (await response.json()) as T;
}

describeWithSharedServices('Jobs across processes', () => {
  describe('a worker SIGKILLed in the middle of a job', () => {
    let database: TestDatabase;
    let api: KeelProcess | undefined;
    let workerA: KeelProcess | undefined;
    let workerB: KeelProcess | undefined;
    const target = new HoldingWebhookTarget();
    let env: Record<string, string>;

    beforeAll(async () => {
      database = await createTestDatabase();
      await target.start();
      const redis = await redisUrl();
      if (!database.url || !redis) throw new Error('services mode: PostgreSQL and Redis needed');
      env = {
        APP_ENV: 'test',
        LOG_LEVEL: 'info',
        DATABASE_URL: database.url,
        REDIS_URL: redis,
        // Its own Bull queue: no other suite's worker can take this suite's jobs.
        REDIS_PREFIX: `test:${randomUUID()}:`,
        RATE_LIMIT_AUTH_MAX: '1000',
        WEBHOOK_SIGNING_SECRET: SIGNING_SECRET,
        WEBHOOK_ALLOW_PRIVATE: 'true',
        JOB_BACKOFF_MS: '20',
        JOB_LOCK_MS: '2000',
        SHUTDOWN_DELAY_MS: '0',
        SHUTDOWN_TIMEOUT_MS: '5000',
      };
    });

    afterAll(async () => {
      await Promise.all([killProcess(workerA), killProcess(workerB), killProcess(api)]);
      await target.stop();
      await database?.drop();
    });

    it('runs the job again on another worker: one event id, signed, completed on the second attempt', async () => {
      // WORKER_IN_PROCESS unset: this API only queues jobs. It migrates the database first.
      api = await spawnKeel(env);
      await waitUntilServing(api);
      // A timeout far above the test's waits: only the SIGKILL ends worker A's attempt.
      workerA = await spawnWorker({ ...env, WEBHOOK_TIMEOUT_MS: '60000' });
      await waitUntilServing(workerA);

      // The worker's port serves health and metrics only.
      await until(
        'worker A ready',
        async () => (await fetch(`${workerA?.url}/health/ready`)).status === 200 || undefined,
        10_000,
      );
      expect((await fetch(`${workerA.url}/metrics`)).status).toBe(200);
      expect((await fetch(`${workerA.url}/v1/users`)).status).toBe(404);
      expect((await fetch(`${workerA.url}/v1/jobs`, { method: 'POST' })).status).toBe(404);

      const registered = await fetch(`${api.url}/v1/auth/register`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({
          email: `worker-${randomUUID().slice(0, 8)}@example.com`,
          password: 'correct horse battery staple',
          name: 'Worker Test',
        }),
      });
      expect(registered.status).toBe(201);
      const { accessToken } = await json<{ accessToken: string }>(registered);
      const auth = { Authorization: `Bearer ${accessToken}` };

      const created = await fetch(`${api.url}/v1/jobs`, {
        method: 'POST',
        headers: { ...auth, 'Content-Type': 'application/json' },
        body: JSON.stringify({
          type: 'webhook.deliver',
          payload: { url: target.url, event: 'order.paid', data: { orderId: 42 } },
        }),
      });
      expect(created.status).toBe(202);
      const location = created.headers.get('location') ?? '';
      const { id } = await json<{ id: string }>(created);
      expect(location).toBe(`/v1/jobs/${id}`);
      const job = async () =>
        json<JobResponse>(await fetch(`${api?.url}${location}`, { headers: auth }));

      // Worker A has sent the request and waits for an answer that never comes.
      await until('first delivery', () => target.received.length > 0 || undefined, 15_000);
      expect(await job()).toMatchObject({ status: 'active', attempts: 1 });

      workerA.child.kill('SIGKILL');
      await within('worker A killed', workerA.exited, 5000);
      expect(workerA.child.signalCode).toBe('SIGKILL');

      // Worker B finds the job without a live lock (JOB_LOCK_MS) and runs it again.
      workerB = await spawnWorker({ ...env, WEBHOOK_TIMEOUT_MS: '5000' });
      await waitUntilServing(workerB);
      let last: JobResponse | undefined;
      const finished = await until(
        () => `job finished on worker B (last: ${JSON.stringify(last)})\n${workerB?.stdout()}`,
        async () => {
          last = await job();
          return ['completed', 'failed', 'cancelled'].includes(last.status) ? last : undefined;
        },
        20_000,
      );
      expect(finished).toMatchObject({
        id,
        type: 'webhook.deliver',
        status: 'completed',
        error: null,
        result: { status: 200 },
      });
      expect(finished.attempts).toBeGreaterThanOrEqual(2);

      // Both deliveries carry the same event (receivers dedupe on its id), each validly signed.
      expect(target.received).toHaveLength(2);
      const [first, second] = target.received.map((delivery) => ({
        ...delivery,
        event: JSON.parse(delivery.body) as Record<string, unknown>,
      }));
      expect(first.event).toEqual({
        id,
        event: 'order.paid',
        data: { orderId: 42 },
        createdAt: finished.createdAt,
      });
      expect(second.event).toEqual(first.event);
      for (const delivery of [first, second]) {
        const expected = createHmac('sha256', SIGNING_SECRET).update(delivery.body).digest('hex');
        expect(delivery.headers['x-signature']).toBe(`sha256=${expected}`);
      }

      expect((await fetch(`${workerB.url}/health/ready`)).status).toBe(200);
      expect((await fetch(`${workerB.url}/v1/users`)).status).toBe(404);
      workerB.child.kill('SIGTERM');
      expect(await within('worker B stopped by SIGTERM', workerB.exited, 15_000)).toBe(0);
    }, 90_000);
  });

  describe('Redis stopped under the API', () => {
    let redis: PrivateRedis | undefined;
    let t: TestApp | undefined;
    let owner: Session;
    let apiKey: string;

    beforeAll(async () => {
      redis = await PrivateRedis.start();
      t = await startTestApp({ env: { ...JOB_TEST_ENV, REDIS_URL: redis.url } });
      owner = await register(t);
      const key = await request(t.http)
        .post('/v1/api-keys')
        .set(bearer(owner.accessToken))
        .send({ name: 'redis fault test', scopes: ['jobs:write', 'jobs:read'] });
      if (key.status !== 201) throw new Error(`API key not created: ${key.status}`);
      apiKey = (key.body as { key: string }).key;
    });

    afterAll(async () => {
      // The app closes its queue cleanly only with Redis up.
      if (redis && !redis.running) await redis.restart().catch(() => undefined);
      await t?.close();
      await redis?.stop();
    });

    it('answers 503 at once, fails the job row, keeps serving and recovers when Redis is back', async () => {
      const app = t as TestApp;
      const before = await createJob(app, owner.accessToken, {
        type: 'data.process',
        payload: { items: [1, 2, 3] },
      });
      expect(await waitForJob(app, owner.accessToken, before)).toMatchObject({
        status: 'completed',
      });

      await redis?.stop();

      // A user's token: its revocation check needs Redis too, so authentication refuses first.
      let started = Date.now();
      const withToken = await postJob(app, owner.accessToken, {
        type: 'data.process',
        payload: { items: [4] },
      });
      expect(Date.now() - started).toBeLessThan(5000);
      expect(problemOf(withToken)).toEqual(problem(503, 'SERVICE_UNAVAILABLE'));
      expect(withToken.headers['retry-after']).toMatch(/^\d+$/);

      // An API key needs no Redis: the row is written, the queue refuses it.
      started = Date.now();
      const withKey = await request(app.http)
        .post('/v1/jobs')
        .set('X-API-Key', apiKey)
        .send({ type: 'data.process', payload: { items: [5] } });
      expect(Date.now() - started).toBeLessThan(5000);
      expect(problemOf(withKey)).toEqual(problem(503, 'SERVICE_UNAVAILABLE'));
      expect(withKey.headers['retry-after']).toMatch(/^\d+$/);

      expect((await request(app.http).get('/health/live')).status).toBe(200);
      expect((await request(app.http).get('/health/ready')).status).toBe(503);

      // The refused job is in the dead-letter list, not left queued forever.
      const list = async (status: string) => {
        const res = await request(app.http)
          .get(`/v1/jobs?status=${status}`)
          .set('X-API-Key', apiKey);
        expect(res.status).toBe(200);
        return (res.body as { data: JobResponse[] }).data;
      };
      expect(await list('queued')).toEqual([]);
      const failed = await list('failed');
      expect(failed).toEqual([
        expect.objectContaining({
          type: 'data.process',
          status: 'failed',
          attempts: 0,
          error: expect.stringMatching(/queue was unavailable/),
          finishedAt: expect.any(String),
        }),
      ]);

      await redis?.restart();

      // The same API, reconnected: accepted, run by its in-process worker, completed.
      const accepted = await until(
        'POST /v1/jobs accepted after the restart',
        async () => {
          const res = await postJob(app, owner.accessToken, {
            type: 'data.process',
            payload: { items: [2, 4] },
          });
          return res.status === 503 ? undefined : res;
        },
        15_000,
        250,
      );
      expect(accepted.status).toBe(202);
      const after = (accepted.body as { id: string }).id;
      expect(await waitForJob(app, owner.accessToken, after, undefined, 20_000)).toMatchObject({
        status: 'completed',
        result: { count: 2, sum: 6 },
      });
      const dead = await request(app.http)
        .get(`/v1/jobs/${failed[0].id}`)
        .set(bearer(owner.accessToken));
      expect(dead.body).toMatchObject({ status: 'failed' });
    }, 90_000);
  });
});
