import { createHmac } from 'node:crypto';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { JobEvent, JobEvents } from '../src/jobs/job-events';
import { JobQueue } from '../src/jobs/job-queue';
import { JobRunner } from '../src/jobs/job-runner';
import { bearer, createApiKey, createUser, register, Session } from './helpers/identity';
import { createJob, JOB_TEST_ENV, postJob, waitForJob } from './helpers/jobs';
import { invalidFields, problem, problemOf } from './helpers/problem';
import { startTestApp, TestApp } from './helpers/test-app';
import { WebhookReceiver } from './helpers/webhook-receiver';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ISO_DATE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const JOB_KEYS = [
  'attempts',
  'createdAt',
  'error',
  'finishedAt',
  'id',
  'maxAttempts',
  'progress',
  'result',
  'startedAt',
  'status',
  'type',
];

async function jobRows(t: TestApp): Promise<number> {
  const [row] = await t.app
    .get(DataSource)
    .query<{ n: number }[]>('SELECT count(*)::int AS n FROM jobs');
  return row.n;
}

/** Resolves with the events of one job once `done` says they are complete; bounded. */
function collectEvents(t: TestApp, done: (events: JobEvent[]) => boolean) {
  const events: JobEvent[] = [];
  let unsubscribe = () => {};
  const complete = new Promise<JobEvent[]>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`events incomplete: ${JSON.stringify(events)}`)),
      10_000,
    );
    unsubscribe = t.app.get(JobEvents).subscribe((event) => {
      events.push(event);
      if (done(events)) {
        clearTimeout(timer);
        resolve(events);
      }
    });
  });
  return { complete: complete.finally(() => unsubscribe()) };
}

describe('Jobs: /v1/jobs', () => {
  let t: TestApp;
  let owner: Session;
  let other: Session;
  let admin: Session;
  const receiver = new WebhookReceiver();

  beforeAll(async () => {
    t = await startTestApp({ env: JOB_TEST_ENV });
    await receiver.start();
    owner = await register(t, { name: 'Job Owner' });
    other = await register(t);
    admin = await createUser(t, 'admin');
  });

  afterAll(async () => {
    await receiver.stop();
    await t?.close();
  });

  beforeEach(() => receiver.reset());

  describe('creating and running', () => {
    it('accepts a job with 202, a Location and status queued, then computes data.process', async () => {
      const res = await postJob(t, owner.accessToken, {
        type: 'data.process',
        payload: { items: [4, -2, 10, 0.5] },
      });
      expect(res.status).toBe(202);
      expect(res.body).toEqual({ id: expect.stringMatching(UUID), status: 'queued' });
      expect(res.headers.location).toBe(`/v1/jobs/${res.body.id}`);

      const job = await waitForJob(t, owner.accessToken, res.body.id);
      expect(Object.keys(job).sort()).toEqual(JOB_KEYS);
      expect(job).toMatchObject({
        id: res.body.id,
        type: 'data.process',
        status: 'completed',
        progress: 100,
        attempts: 1,
        maxAttempts: 3,
        error: null,
        result: { count: 4, sum: 12.5, mean: 3.125, min: -2, max: 10 },
      });
      for (const field of ['createdAt', 'startedAt', 'finishedAt'] as const) {
        expect(job[field]).toMatch(ISO_DATE);
      }
    });

    it('records a delayed job as queued with nothing run yet, its payload, priority and due time as sent', async () => {
      const id = await createJob(t, owner.accessToken, {
        type: 'data.process',
        payload: { items: [1, 2] },
        delayMs: 60_000,
        priority: 2,
      });
      const res = await request(t.http).get(`/v1/jobs/${id}`).set(bearer(owner.accessToken));
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        id,
        type: 'data.process',
        status: 'queued',
        progress: 0,
        attempts: 0,
        maxAttempts: 3,
        result: null,
        error: null,
        createdAt: expect.stringMatching(ISO_DATE),
        startedAt: null,
        finishedAt: null,
      });
      const [row] = await t.app
        .get(DataSource)
        .query<{ payload: unknown; priority: number; key: string | null; delayS: number }[]>(
          `SELECT payload, priority, idempotency_key AS key,
                  extract(epoch FROM run_at - created_at)::float AS "delayS"
           FROM jobs WHERE id = $1`,
          [id],
        );
      expect(row).toMatchObject({ payload: { items: [1, 2] }, priority: 2, key: null });
      expect(row.delayS).toBeGreaterThan(59);
      expect(row.delayS).toBeLessThan(61);
      const cancel = await request(t.http).delete(`/v1/jobs/${id}`).set(bearer(owner.accessToken));
      expect(cancel.status).toBe(204);
    });

    it('publishes progress in order while data.process runs, then job.completed to the owner', async () => {
      let id = '';
      const events = collectEvents(t, (seen) =>
        seen.some((e) => e.name === 'job.completed' && e.data.id === id),
      );
      id = await createJob(t, owner.accessToken, {
        type: 'data.process',
        payload: { items: Array.from({ length: 1000 }, (_, i) => i) },
      });
      const mine = (await events.complete).filter((e) => e.data.id === id);
      expect(mine.every((e) => e.ownerId === owner.user.id)).toBe(true);
      const progress = mine.flatMap((e) => (e.name === 'job.progress' ? [e.data.progress] : []));
      expect(progress).toEqual([10, 20, 30, 40, 50, 60, 70, 80, 90]);
      expect(mine.at(-1)).toEqual({
        name: 'job.completed',
        ownerId: owner.user.id,
        data: {
          id,
          type: 'data.process',
          result: { count: 1000, sum: 499_500, mean: 499.5, min: 0, max: 999 },
        },
      });
    });

    it('runs report.users: users by role and signups per UTC day', async () => {
      const id = await createJob(t, owner.accessToken, {
        type: 'report.users',
        payload: { days: 3 },
      });
      const { status, result } = await waitForJob(t, owner.accessToken, id);
      expect(status).toBe('completed');
      const report = result as {
        total: number;
        byRole: Record<string, number>;
        signupsPerDay: { date: string; count: number }[];
      };
      expect(Object.keys(report.byRole).sort()).toEqual(['admin', 'guest', 'user']);
      expect(report.byRole.admin).toBeGreaterThanOrEqual(1);
      expect(report.byRole.user).toBeGreaterThanOrEqual(2);
      expect(report.total).toBe(report.byRole.admin + report.byRole.user + report.byRole.guest);
      expect(report.signupsPerDay).toHaveLength(3);
      expect(report.signupsPerDay.at(-1)?.date).toBe(new Date().toISOString().slice(0, 10));
      expect(report.signupsPerDay.at(-1)?.count).toBe(report.total);
    });

    it('keeps the welcome email queued when the queue refuses it at registration; the recovery sweep queues it', async () => {
      const add = jest
        .spyOn(t.app.get(JobQueue), 'add')
        .mockRejectedValueOnce(new Error('queue unavailable'));
      try {
        const user = await register(t, { name: 'Queue Down' });
        expect(add).toHaveBeenCalledTimes(1);
        const list = await request(t.http)
          .get('/v1/jobs?type=email.welcome')
          .set(bearer(user.accessToken));
        expect(list.body.data).toEqual([
          expect.objectContaining({ status: 'queued', attempts: 0, error: null }),
        ]);
        await t.app.get(JobRunner).recover(true);
        const job = await waitForJob(t, user.accessToken, list.body.data[0].id);
        expect(job.status).toBe('completed');
      } finally {
        add.mockRestore();
      }
    });

    it('queues the welcome email at registration; without SMTP it is kept in the result', async () => {
      const list = await request(t.http)
        .get('/v1/jobs?type=email.welcome')
        .set(bearer(owner.accessToken));
      expect(list.status).toBe(200);
      expect(list.body.meta.total).toBe(1);
      const job = await waitForJob(t, owner.accessToken, list.body.data[0].id);
      expect(job.status).toBe('completed');
      expect(job.result).toMatchObject({
        messageId: `<${job.id}@keel>`,
        to: owner.email,
        subject: 'Welcome to Keel',
        message: { to: [{ address: owner.email }], subject: 'Welcome to Keel' },
      });
      expect(JSON.stringify(job.result)).toContain('Hello Job Owner');
    });

    it('delivers webhook.deliver with an HMAC-SHA256 X-Signature of the raw body', async () => {
      const id = await createJob(t, owner.accessToken, {
        type: 'webhook.deliver',
        payload: { url: receiver.url, event: 'order.shipped', data: { order: 7 } },
      });
      const job = await waitForJob(t, owner.accessToken, id);
      expect(job).toMatchObject({ status: 'completed', attempts: 1, result: { status: 200 } });
      expect(receiver.received).toHaveLength(1);
      const [delivery] = receiver.received;
      const expected = createHmac('sha256', JOB_TEST_ENV.WEBHOOK_SIGNING_SECRET)
        .update(delivery.body)
        .digest('hex');
      expect(delivery.headers['x-signature']).toBe(`sha256=${expected}`);
      expect(delivery.headers['content-type']).toBe('application/json');
      expect(JSON.parse(delivery.body)).toEqual({
        id,
        event: 'order.shipped',
        data: { order: 7 },
        createdAt: job.createdAt,
      });
    });

    it('retries a target that answers 500, with the same event id, until it answers 200', async () => {
      receiver.answer(500, 200);
      const id = await createJob(t, owner.accessToken, {
        type: 'webhook.deliver',
        payload: { url: receiver.url, event: 'ping' },
      });
      const job = await waitForJob(t, owner.accessToken, id);
      expect(job).toMatchObject({ status: 'completed', attempts: 2, error: null });
      expect(receiver.received.map((r) => (JSON.parse(r.body) as { id: string }).id)).toEqual([
        id,
        id,
      ]);
    });

    it('fails once the attempts run out, keeps the error in the dead-letter list, and an admin retry succeeds', async () => {
      receiver.answer(503);
      const id = await createJob(t, owner.accessToken, {
        type: 'webhook.deliver',
        payload: { url: receiver.url, event: 'ping' },
      });
      const failed = await waitForJob(t, owner.accessToken, id);
      expect(failed).toMatchObject({ status: 'failed', attempts: 3, result: null });
      expect(failed.error).toBe('The webhook target answered 503.');
      expect(failed.finishedAt).toMatch(ISO_DATE);
      expect(receiver.received).toHaveLength(3);

      const deadLetters = await request(t.http)
        .get('/v1/jobs?status=failed')
        .set(bearer(owner.accessToken));
      const listed = (deadLetters.body as { data: { id: string; status: string }[] }).data;
      expect(listed.map((j) => j.id)).toContain(id);
      expect(listed.every((j) => j.status === 'failed')).toBe(true);

      const byOwner = await request(t.http)
        .post(`/v1/jobs/${id}/retry`)
        .set(bearer(owner.accessToken));
      expect(problemOf(byOwner)).toEqual(problem(403, 'FORBIDDEN'));

      receiver.answer(200);
      const retry = await request(t.http)
        .post(`/v1/jobs/${id}/retry`)
        .set(bearer(admin.accessToken));
      expect(retry.status).toBe(202);
      expect(retry.body).toMatchObject({ id, error: null, maxAttempts: 3 });
      const done = await waitForJob(t, owner.accessToken, id);
      expect(done).toMatchObject({ status: 'completed', attempts: 1, error: null });

      const again = await request(t.http)
        .post(`/v1/jobs/${id}/retry`)
        .set(bearer(admin.accessToken));
      expect(problemOf(again)).toEqual(problem(409, 'CONFLICT'));
    });
  });

  describe('bad input (400, nothing written)', () => {
    it('refuses an unknown type, listing the valid ones', async () => {
      const before = await jobRows(t);
      const res = await postJob(t, owner.accessToken, { type: 'video.render', payload: {} });
      expect(problemOf(res)).toEqual(problem(400, 'VALIDATION_FAILED'));
      expect(res.body.errors).toEqual([
        {
          field: 'type',
          message:
            'type must be one of: email.welcome, report.users, data.process, webhook.deliver',
        },
      ]);
      expect(await jobRows(t)).toBe(before);
    });

    it.each([
      ['items missing', { type: 'data.process', payload: {} }, ['payload.items']],
      [
        'items not numbers',
        { type: 'data.process', payload: { items: [1, 'x'] } },
        ['payload.items'],
      ],
      ['no items', { type: 'data.process', payload: { items: [] } }, ['payload.items']],
      [
        'items whose sum is beyond a double',
        { type: 'data.process', payload: { items: [1e308, 1e308] } },
        ['payload.items'],
      ],
      [
        'items whose running total passes a double on the way',
        { type: 'data.process', payload: { items: [1e308, 1e308, -1e308, -5e307] } },
        ['payload.items'],
      ],
      [
        'items whose sum is beyond a double, negatively',
        { type: 'data.process', payload: { items: [-1.5e308, 1, -1.5e308] } },
        ['payload.items'],
      ],
      [
        'an extra payload field',
        { type: 'data.process', payload: { items: [1], x: 1 } },
        ['payload.x'],
      ],
      ['a payload that is an array', { type: 'report.users', payload: [1] }, ['payload']],
      ['a payload that is a string', { type: 'report.users', payload: 'x' }, ['payload']],
      ['days out of range', { type: 'report.users', payload: { days: 0 } }, ['payload.days']],
      [
        'an ftp url',
        { type: 'webhook.deliver', payload: { url: 'ftp://x.example', event: 'e' } },
        ['payload.url'],
      ],
      [
        'a bad event name',
        { type: 'webhook.deliver', payload: { url: 'https://x.example', event: 'a b' } },
        ['payload.event'],
      ],
      ['a negative delay', { type: 'report.users', delayMs: -1 }, ['delayMs']],
      ['a priority of 0', { type: 'report.users', priority: 0 }, ['priority']],
      ['an extra field', { type: 'report.users', owner: 'x' }, ['owner']],
    ])('refuses %s', async (_case, body, fields) => {
      const before = await jobRows(t);
      const res = await postJob(t, owner.accessToken, body);
      expect(problemOf(res)).toEqual(problem(400, 'VALIDATION_FAILED'));
      expect(invalidFields(res)).toEqual(fields);
      expect(await jobRows(t)).toBe(before);
    });

    it('refuses a malformed Idempotency-Key and a malformed id', async () => {
      const key = await postJob(
        t,
        owner.accessToken,
        { type: 'report.users' },
        { 'Idempotency-Key': 'has space' },
      );
      expect(problemOf(key)).toEqual(problem(400, 'VALIDATION_FAILED'));
      expect(invalidFields(key)).toEqual(['Idempotency-Key']);
      const id = await request(t.http).get('/v1/jobs/not-a-uuid').set(bearer(owner.accessToken));
      expect(problemOf(id)).toEqual(problem(400, 'VALIDATION_FAILED'));
    });

    it('needs credentials', async () => {
      const res = await request(t.http).post('/v1/jobs').send({ type: 'report.users' });
      expect(problemOf(res)).toEqual(problem(401, 'UNAUTHORIZED'));
    });
  });

  describe('Idempotency-Key', () => {
    it('returns the first job for a repeat from the same caller, even concurrently', async () => {
      const body = { type: 'data.process', payload: { items: [1, 2] } };
      const headers = { 'Idempotency-Key': `order-${Date.now()}` };
      const before = await jobRows(t);
      const answers = await Promise.all(
        Array.from({ length: 5 }, () => postJob(t, owner.accessToken, body, headers)),
      );
      expect(answers.map((res) => res.status)).toEqual([202, 202, 202, 202, 202]);
      expect(new Set(answers.map((res) => (res.body as { id: string }).id)).size).toBe(1);
      expect(await jobRows(t)).toBe(before + 1);

      const later = await postJob(t, owner.accessToken, body, headers);
      expect(later.body.id).toBe(answers[0].body.id);
      expect(later.headers.location).toBe(`/v1/jobs/${answers[0].body.id}`);
    });

    it('is 409 with a different request, and separate per caller', async () => {
      const headers = { 'Idempotency-Key': `k-${Date.now()}` };
      const first = await postJob(t, owner.accessToken, { type: 'report.users' }, headers);
      const changed = await postJob(
        t,
        owner.accessToken,
        { type: 'report.users', payload: { days: 2 } },
        headers,
      );
      expect(problemOf(changed)).toEqual(problem(409, 'IDEMPOTENCY_KEY_REUSED'));
      const otherUser = await postJob(t, other.accessToken, { type: 'report.users' }, headers);
      expect(otherUser.status).toBe(202);
      expect(otherUser.body.id).not.toBe(first.body.id);
    });

    it('is 409 when the same key comes with a different delayMs or priority', async () => {
      const headers = { 'Idempotency-Key': `timed-${Date.now()}` };
      const body = { type: 'report.users', payload: { days: 7 }, delayMs: 60_000, priority: 2 };
      const first = await postJob(t, owner.accessToken, body, headers);
      expect(first.status).toBe(202);
      const before = await jobRows(t);

      const changes: Record<string, unknown>[] = [
        { delayMs: 120_000 },
        { delayMs: undefined },
        { delayMs: 0 },
        { priority: 1 },
        { priority: undefined },
      ];
      for (const change of changes) {
        const res = await postJob(t, owner.accessToken, { ...body, ...change }, headers);
        expect({ change, problem: problemOf(res) }).toEqual({
          change,
          problem: problem(409, 'IDEMPOTENCY_KEY_REUSED'),
        });
      }
      const same = await postJob(t, owner.accessToken, body, headers);
      expect(same.status).toBe(202);
      expect(same.body.id).toBe(first.body.id);
      expect(await jobRows(t)).toBe(before);

      const cancel = await request(t.http)
        .delete(`/v1/jobs/${first.body.id}`)
        .set(bearer(owner.accessToken));
      expect(cancel.status).toBe(204);
    });

    it('treats a delayMs of 0 as the default it is: the same request as none', async () => {
      const headers = { 'Idempotency-Key': `now-${Date.now()}` };
      const first = await postJob(t, owner.accessToken, { type: 'report.users' }, headers);
      const explicit = await postJob(
        t,
        owner.accessToken,
        { type: 'report.users', delayMs: 0 },
        headers,
      );
      expect(explicit.status).toBe(202);
      expect(explicit.body.id).toBe(first.body.id);
    });
  });

  describe('cancelling', () => {
    it('cancels a queued job (204) and refuses to cancel it again (409)', async () => {
      const id = await createJob(t, owner.accessToken, { type: 'report.users', delayMs: 60_000 });
      const res = await request(t.http).delete(`/v1/jobs/${id}`).set(bearer(owner.accessToken));
      expect(res.status).toBe(204);
      const job = await request(t.http).get(`/v1/jobs/${id}`).set(bearer(owner.accessToken));
      expect(job.body).toMatchObject({ status: 'cancelled', attempts: 0, startedAt: null });
      expect(job.body.finishedAt).toMatch(ISO_DATE);
      const again = await request(t.http).delete(`/v1/jobs/${id}`).set(bearer(owner.accessToken));
      expect(problemOf(again)).toEqual(problem(409, 'CONFLICT'));
    });

    it("refuses to cancel a finished job, and hides other users' jobs (404)", async () => {
      const id = await createJob(t, owner.accessToken, {
        type: 'data.process',
        payload: { items: [1] },
      });
      await waitForJob(t, owner.accessToken, id);
      const finished = await request(t.http)
        .delete(`/v1/jobs/${id}`)
        .set(bearer(owner.accessToken));
      expect(problemOf(finished)).toEqual(problem(409, 'CONFLICT'));
      const queued = await createJob(t, owner.accessToken, {
        type: 'report.users',
        delayMs: 60_000,
      });
      const foreign = await request(t.http)
        .delete(`/v1/jobs/${queued}`)
        .set(bearer(other.accessToken));
      expect(problemOf(foreign)).toEqual(problem(404, 'NOT_FOUND'));
    });
  });

  describe('visibility', () => {
    it("shows a job to its owner and admins only; lists are per owner, everyone's for admins", async () => {
      const mine = await createJob(t, owner.accessToken, { type: 'report.users', delayMs: 60_000 });
      const theirs = await createJob(t, other.accessToken, {
        type: 'report.users',
        delayMs: 60_000,
      });

      const foreign = await request(t.http)
        .get(`/v1/jobs/${theirs}`)
        .set(bearer(owner.accessToken));
      expect(problemOf(foreign)).toEqual(problem(404, 'NOT_FOUND'));
      const asAdmin = await request(t.http)
        .get(`/v1/jobs/${theirs}`)
        .set(bearer(admin.accessToken));
      expect(asAdmin.status).toBe(200);

      const own = await request(t.http).get('/v1/jobs?limit=100').set(bearer(owner.accessToken));
      const ownIds = (own.body as { data: { id: string }[] }).data.map((j) => j.id);
      expect(ownIds).toContain(mine);
      expect(ownIds).not.toContain(theirs);

      const all = await request(t.http)
        .get('/v1/jobs?status=queued&type=report.users&limit=1')
        .set(bearer(admin.accessToken));
      expect(all.status).toBe(200);
      expect(all.body.data).toHaveLength(1);
      expect(all.body.meta).toMatchObject({ page: 1, limit: 1 });
      expect(all.body.meta.total).toBeGreaterThanOrEqual(2);
      expect(all.body.data[0].id).toBe(theirs); // newest first
    });
  });

  describe('API keys', () => {
    const key = (session: Session, scopes: string[]) => createApiKey(t, session, scopes);

    it('needs jobs:write to create and jobs:read to read', async () => {
      const reader = await key(owner, ['jobs:read']);
      const writer = await key(owner, ['jobs:write']);
      const created = await request(t.http)
        .post('/v1/jobs')
        .set('X-API-Key', writer)
        .send({ type: 'report.users' });
      expect(created.status).toBe(202);
      const refused = await request(t.http)
        .post('/v1/jobs')
        .set('X-API-Key', reader)
        .send({ type: 'report.users' });
      expect(problemOf(refused)).toEqual(problem(403, 'FORBIDDEN'));
      const read = await request(t.http)
        .get(`/v1/jobs/${created.body.id}`)
        .set('X-API-Key', reader);
      expect(read.status).toBe(200);
      const unread = await request(t.http)
        .get(`/v1/jobs/${created.body.id}`)
        .set('X-API-Key', writer);
      expect(problemOf(unread)).toEqual(problem(403, 'FORBIDDEN'));
    });

    it("keeps an API key's Idempotency-Keys apart from its owner's token", async () => {
      const writer = await key(owner, ['jobs:write']);
      const headers = { 'Idempotency-Key': `shared-${Date.now()}` };
      const viaToken = await postJob(t, owner.accessToken, { type: 'report.users' }, headers);
      const viaKey = await request(t.http)
        .post('/v1/jobs')
        .set('X-API-Key', writer)
        .set(headers)
        .send({ type: 'report.users' });
      expect(viaKey.status).toBe(202);
      expect(viaKey.body.id).not.toBe(viaToken.body.id);
    });
  });

  describe('operators', () => {
    it('counts jobs by status in /v1/stats', async () => {
      const res = await request(t.http).get('/v1/stats').set(bearer(admin.accessToken));
      expect(res.status).toBe(200);
      const { total, byStatus } = res.body.jobs as {
        total: number;
        byStatus: Record<string, number>;
      };
      expect(Object.keys(byStatus).sort()).toEqual([
        'active',
        'cancelled',
        'completed',
        'failed',
        'queued',
      ]);
      expect(total).toBe(Object.values(byStatus).reduce((a, b) => a + b, 0));
      expect(byStatus.completed).toBeGreaterThan(0);
    });

    it('exposes job counters, durations and queue depth in /metrics', async () => {
      const res = await request(t.http).get('/metrics');
      expect(res.text).toMatch(
        /^jobs_processed_total\{type="data.process",status="completed"\} [1-9]/m,
      );
      expect(res.text).toMatch(
        /^job_duration_seconds_count\{type="data.process",status="completed"\} [1-9]/m,
      );
      expect(res.text).toMatch(/^job_queue_jobs\{state="delayed"\} [1-9]/m);
      expect(res.text).toMatch(/^job_queue_jobs\{state="failed"\} \d+/m);
    });

    it('reports the queue in /health', async () => {
      const res = await request(t.http).get('/health');
      expect(res.body.checks.queue).toEqual({ status: 'up', latencyMs: expect.any(Number) });
    });
  });
});

describe('Jobs: webhook targets', () => {
  let t: TestApp;
  const receiver = new WebhookReceiver();

  beforeAll(async () => {
    t = await startTestApp({ env: { ...JOB_TEST_ENV, WEBHOOK_ALLOW_PRIVATE: 'false' } });
    await receiver.start();
  });

  afterAll(async () => {
    await receiver.stop();
    await t?.close();
  });

  it.each([
    ['a loopback address', () => receiver.url],
    ['localhost by name', () => receiver.url.replace('127.0.0.1', 'localhost')],
    ['an IPv6 loopback', () => 'http://[::1]:9/hook'],
    ['a private network address', () => 'http://10.0.0.1/hook'],
    ['the cloud metadata address', () => 'http://169.254.169.254/latest/meta-data'],
  ])('refuses %s at once, without retrying or connecting', async (_case, url) => {
    const session = await register(t);
    const id = await createJob(t, session.accessToken, {
      type: 'webhook.deliver',
      payload: { url: url(), event: 'ping' },
    });
    const job = await waitForJob(t, session.accessToken, id);
    expect(job).toMatchObject({ status: 'failed', attempts: 1 });
    expect(job.error).toMatch(/resolves to a private or loopback address; refused\.$/);
    expect(receiver.received).toHaveLength(0);
  });
});
