import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { bearer, createApiKey, register, Session } from './helpers/identity';
import { JOB_TEST_ENV, waitForJob } from './helpers/jobs';
import { invalidFields, problem, problemOf } from './helpers/problem';
import { startTestApp, TestApp } from './helpers/test-app';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface EventRow {
  id: string;
  source: string;
  external_id: string | null;
  headers: Record<string, string>;
  payload: unknown;
  job_id: string | null;
  processed_at: Date | null;
}

describe('Inbound webhooks: POST /v1/webhooks/:source', () => {
  let t: TestApp;
  let owner: Session;
  let key: string;

  async function events(where = 'true', params: unknown[] = []): Promise<EventRow[]> {
    return t.app
      .get(DataSource)
      .query<EventRow[]>(`SELECT * FROM webhook_events WHERE ${where} ORDER BY created_at`, params);
  }

  const apiKey = (scopes: string[]) => createApiKey(t, owner, scopes);

  function send(source: string, body: unknown, headers: Record<string, string> = {}) {
    return request(t.http)
      .post(`/v1/webhooks/${source}`)
      .set('X-API-Key', key)
      .set(headers)
      .send(body as object);
  }

  async function processingJobs(eventId: string): Promise<number> {
    const [row] = await t.app
      .get(DataSource)
      .query<{ n: number }[]>(
        `SELECT count(*)::int AS n FROM jobs WHERE type = 'webhook.process' AND payload->>'eventId' = $1`,
        [eventId],
      );
    return row.n;
  }

  async function webhookJobs(): Promise<number> {
    const [row] = await t.app
      .get(DataSource)
      .query<{ n: number }[]>(`SELECT count(*)::int AS n FROM jobs WHERE type = 'webhook.process'`);
    return row.n;
  }

  /**
   * A POST with no body at all: no Content-Type, Content-Length or Transfer-Encoding. supertest
   * (and Node's client by default) send `Content-Length: 0` with every bodiless POST.
   */
  async function postWithoutBody(
    path: string,
    headers: Record<string, string>,
  ): Promise<request.Response> {
    // Listening only for this request, as supertest does for each of its own.
    await new Promise<void>((resolve) => t.http.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = t.http.address() as AddressInfo;
      return await new Promise<request.Response>((resolve, reject) => {
        const req = httpRequest(
          { host: '127.0.0.1', port, path, method: 'POST', headers, agent: false },
          (res) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (chunk: string) => (text += chunk));
            res.on('end', () =>
              resolve({
                status: res.statusCode,
                headers: res.headers,
                type: (res.headers['content-type'] ?? '').split(';')[0],
                body: JSON.parse(text) as unknown,
              } as unknown as request.Response),
            );
          },
        );
        req.useChunkedEncodingByDefault = false;
        req.on('error', reject);
        req.end();
      });
    } finally {
      await new Promise((resolve) => t.http.close(resolve));
    }
  }

  beforeAll(async () => {
    t = await startTestApp({ env: JOB_TEST_ENV });
    owner = await register(t);
    key = await apiKey(['webhooks:write']);
  });

  afterAll(async () => {
    await t?.close();
  });

  it('stores the event with a headers subset and processes it in a job', async () => {
    const res = await send(
      'billing',
      { type: 'invoice.paid', amount: 42 },
      { 'X-Event-Id': 'evt-1', 'X-Billing-Signature': 'v1=abc', Cookie: 'session=secret' },
    );
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ eventId: expect.stringMatching(UUID) });

    const [row] = await events('id = $1', [res.body.eventId]);
    expect(row).toMatchObject({
      source: 'billing',
      external_id: 'evt-1',
      payload: { type: 'invoice.paid', amount: 42 },
    });
    expect(row.headers).toMatchObject({
      'x-event-id': 'evt-1',
      'x-billing-signature': 'v1=abc',
      'content-type': 'application/json',
    });
    expect(Object.keys(row.headers)).not.toEqual(expect.arrayContaining(['x-api-key']));
    expect(Object.keys(row.headers)).not.toEqual(expect.arrayContaining(['cookie']));

    const job = await waitForJob(t, owner.accessToken, row.job_id as string);
    expect(job).toMatchObject({
      type: 'webhook.process',
      status: 'completed',
      result: { eventId: res.body.eventId, source: 'billing' },
    });
    const [processed] = await events('id = $1', [res.body.eventId]);
    expect(processed.processed_at).toBeInstanceOf(Date);
  });

  it('returns the first eventId for a repeated X-Event-Id from the same source, without a second job', async () => {
    const first = await send('shop', { n: 1 }, { 'X-Event-Id': 'order-9' });
    const repeats = await Promise.all([
      send('shop', { n: 1 }, { 'X-Event-Id': 'order-9' }),
      send('shop', { n: 1 }, { 'X-Event-Id': 'order-9' }),
    ]);
    expect(repeats.map((res) => res.status)).toEqual([202, 202]);
    expect(repeats.map((res) => (res.body as { eventId: string }).eventId)).toEqual([
      first.body.eventId,
      first.body.eventId,
    ]);
    const rows = await events(`source = 'shop' AND external_id = 'order-9'`);
    expect(rows).toHaveLength(1);
    const jobs = await t.app
      .get(DataSource)
      .query<{ n: number }[]>(
        `SELECT count(*)::int AS n FROM jobs WHERE type = 'webhook.process' AND payload->>'eventId' = $1`,
        [first.body.eventId],
      );
    expect(jobs[0].n).toBe(1);

    const otherSource = await send('crm', { n: 1 }, { 'X-Event-Id': 'order-9' });
    expect(otherSource.status).toBe(202);
    expect(otherSource.body.eventId).not.toBe(first.body.eventId);
  });

  it('queues one job for an X-Event-Id sent many times at once', async () => {
    const ids = ['burst-1', 'burst-2', 'burst-3'];
    const answers = await Promise.all(
      ids.flatMap((id) =>
        Array.from({ length: 6 }, () => send('burst', { id }, { 'X-Event-Id': id })),
      ),
    );
    expect(answers.map((res) => res.status)).toEqual(answers.map(() => 202));
    for (const id of ids) {
      const rows = await events(`source = 'burst' AND external_id = $1`, [id]);
      expect(rows).toHaveLength(1);
      expect(await processingJobs(rows[0].id)).toBe(1);
    }
  });

  describe('a request without a JSON body', () => {
    it.each([
      [
        'no body at all (no Content-Type, no Content-Length)',
        () =>
          postWithoutBody('/v1/webhooks/billing', { 'X-API-Key': key, 'X-Event-Id': 'empty-1' }),
      ],
      [
        'Content-Length: 0 with a JSON content type',
        () =>
          request(t.http)
            .post('/v1/webhooks/billing')
            .set('X-API-Key', key)
            .set('X-Event-Id', 'empty-2')
            .set('Content-Type', 'application/json')
            .set('Content-Length', '0'),
      ],
      [
        'Content-Length: 0 without a content type',
        () =>
          request(t.http)
            .post('/v1/webhooks/billing')
            .set('X-API-Key', key)
            .set('X-Event-Id', 'empty-3')
            .set('Content-Length', '0'),
      ],
    ])(
      'refuses %s with 400 VALIDATION_FAILED on body, storing and queueing nothing',
      async (_case, post) => {
        const [eventsBefore, jobsBefore] = [(await events()).length, await webhookJobs()];
        const res = await post();
        expect(problemOf(res)).toEqual(problem(400, 'VALIDATION_FAILED'));
        expect(invalidFields(res)).toEqual(['body']);
        expect((await events()).length).toBe(eventsBefore);
        expect(await webhookJobs()).toBe(jobsBefore);
      },
    );

    it('accepts an empty JSON object: it is a JSON document', async () => {
      const res = await send('billing', {});
      expect(res.status).toBe(202);
      const [row] = await events('id = $1', [res.body.eventId]);
      expect(row.payload).toEqual({});
    });
  });

  describe('X-Event-Id deduplication is per sender', () => {
    it("keeps another user's event with the same source and X-Event-Id apart: two events, two jobs", async () => {
      const partner = await register(t);
      const partnerKey = await createApiKey(t, partner, ['webhooks:write']);
      const forger = await register(t);
      const forgerKey = await createApiKey(t, forger, ['webhooks:write']);
      const post = (apiKeyOf: string, body: object) =>
        request(t.http)
          .post('/v1/webhooks/payments')
          .set('X-API-Key', apiKeyOf)
          .set('X-Event-Id', 'pay-42')
          .send(body);

      const forged = await post(forgerKey, { forged: true });
      const genuine = await post(partnerKey, { amount: 42 });
      expect([forged.status, genuine.status]).toEqual([202, 202]);
      expect(genuine.body.eventId).not.toBe(forged.body.eventId);

      const [stored] = await events('id = $1', [genuine.body.eventId]);
      expect(stored.payload).toEqual({ amount: 42 });
      expect(await processingJobs(genuine.body.eventId)).toBe(1);
      expect(await processingJobs(forged.body.eventId)).toBe(1);
      const job = await waitForJob(t, partner.accessToken, stored.job_id as string);
      expect(job).toMatchObject({ status: 'completed', result: { eventId: genuine.body.eventId } });

      const repeat = await post(partnerKey, { amount: 42 });
      expect(repeat.status).toBe(202);
      expect(repeat.body.eventId).toBe(genuine.body.eventId);
      expect(await processingJobs(genuine.body.eventId)).toBe(1);
      expect(await events(`source = 'payments' AND external_id = 'pay-42'`)).toHaveLength(2);
    });

    it("is the same event from another of the sender's keys (a rotated key retrying)", async () => {
      const rotated = await apiKey(['webhooks:write']);
      const first = await send('rotation', { n: 1 }, { 'X-Event-Id': 'rot-1' });
      const retried = await request(t.http)
        .post('/v1/webhooks/rotation')
        .set('X-API-Key', rotated)
        .set('X-Event-Id', 'rot-1')
        .send({ n: 1 });
      expect(retried.status).toBe(202);
      expect(retried.body.eventId).toBe(first.body.eventId);
      expect(await processingJobs(first.body.eventId)).toBe(1);
    });
  });

  it('accepts bodies up to 256 kB and refuses larger ones with 413', async () => {
    const big = { blob: 'x'.repeat(200 * 1024) };
    expect((await send('bulk', big)).status).toBe(202);
    const before = (await events()).length;
    const tooBig = await send('bulk', { blob: 'x'.repeat(300 * 1024) });
    expect(problemOf(tooBig)).toEqual(problem(413, 'PAYLOAD_TOO_LARGE'));
    expect((await events()).length).toBe(before);
  });

  it('keeps the 100 kB limit on other routes', async () => {
    const res = await request(t.http)
      .post('/v1/jobs')
      .set(bearer(owner.accessToken))
      .send({ type: 'report.users', pad: 'x'.repeat(200 * 1024) });
    expect(problemOf(res)).toEqual(problem(413, 'PAYLOAD_TOO_LARGE'));
  });

  it.each([
    ['no credentials', {}, 401, 'UNAUTHORIZED'],
    ['a user token', { bearer: true }, 403, 'FORBIDDEN'],
    ['a key without webhooks:write', { scopes: ['jobs:write'] }, 403, 'FORBIDDEN'],
  ])('refuses %s', async (_case, how: { bearer?: boolean; scopes?: string[] }, status, code) => {
    const req = request(t.http).post('/v1/webhooks/billing');
    if (how.bearer) req.set(bearer(owner.accessToken));
    if (how.scopes) req.set('X-API-Key', await apiKey(how.scopes));
    const res = await req.send({ a: 1 });
    expect(problemOf(res)).toEqual(problem(status, code));
  });

  it.each([
    ['a source with capitals', 'Billing', {}],
    ['a source too long', 'a'.repeat(65), {}],
    ['an X-Event-Id too long', 'billing', { 'X-Event-Id': 'e'.repeat(201) }],
  ])('refuses %s with 400', async (_case, source, headers) => {
    const before = (await events()).length;
    const res = await send(source, { a: 1 }, headers);
    expect(problemOf(res)).toEqual(problem(400, 'VALIDATION_FAILED'));
    expect((await events()).length).toBe(before);
  });

  it('refuses a body that is not JSON with 415', async () => {
    const res = await request(t.http)
      .post('/v1/webhooks/billing')
      .set('X-API-Key', key)
      .set('Content-Type', 'text/plain')
      .send('hello');
    expect(problemOf(res)).toEqual(problem(415, 'UNSUPPORTED_MEDIA_TYPE'));
  });
});

describe('Inbound webhooks: the feature flag', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ env: { ...JOB_TEST_ENV, FEATURE_WEBHOOKS: 'false' } });
  });

  afterAll(async () => {
    await t?.close();
  });

  it('is a plain 404 when FEATURE_WEBHOOKS=false, before authentication', async () => {
    const res = await request(t.http).post('/v1/webhooks/billing').send({ a: 1 });
    expect(problemOf(res)).toEqual(problem(404, 'NOT_FOUND'));
  });
});
