import { KeelProcess, killProcess } from '../helpers/child-process';
import {
  Answer,
  call,
  createApiKey,
  FaultServices,
  getFrom,
  problemOf,
  registerUser,
  startApi,
  startFaultServices,
  until,
  within,
} from './fault-kit';

/** A request whose dependency is down must fail in bounded time, not hang (ms). */
const PROMPT_MS = 3000;
/** The default window's limit here: low enough to exceed on purpose, high enough for the rest. */
const LIMIT = 30;

describe('Redis stopped under a serving API (production build, private PostgreSQL and Redis)', () => {
  let services: FaultServices | undefined;
  let api: KeelProcess | undefined;

  beforeAll(async () => {
    services = await startFaultServices({
      WORKER_IN_PROCESS: 'true',
      RATE_LIMIT_MAX: String(LIMIT),
      SHUTDOWN_DELAY_MS: '0',
    });
    api = await startApi(services.env);
  });

  afterAll(async () => {
    await killProcess(api);
    await services?.stop();
  });

  it('keeps serving degraded (fail closed for tokens, limits counted per instance, 503 for jobs) and recovers without a restart', async () => {
    const { url } = api as KeelProcess;
    const redis = (services as FaultServices).redis;
    const token = await registerUser(api as KeelProcess, 'redis-outage');
    const bearer = { Authorization: `Bearer ${token}` };
    const me = await call(`${url}/v1/auth/me`, { headers: bearer });
    expect(me.status).toBe(200);
    const userId = (me.body as { id: string }).id;
    const key = {
      'X-API-Key': await createApiKey(api as KeelProcess, token, [
        'users:read',
        'jobs:read',
        'jobs:write',
      ]),
    };
    const user = () => call(`${url}/v1/users/${userId}`, { headers: key });
    const features = () => call(`${url}/v1/features`);
    expect((await user()).headers.get('x-cache')).toBe('MISS');
    expect((await user()).headers.get('x-cache')).toBe('HIT');
    expect((await call(`${url}/health`)).body).toMatchObject({ status: 'healthy' });

    await redis.stop();

    // Alive, not ready, degraded: the database answers, Redis does not.
    expect((await call(`${url}/health/live`)).status).toBe(200);
    const ready = await call(`${url}/health/ready`);
    expect(ready.status).toBe(503);
    expect(ready.body).toMatchObject({ error: { redis: { status: 'down' } } });
    const health = await call(`${url}/health`);
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({
      status: 'degraded',
      checks: { database: { status: 'up' }, redis: { status: 'down' } },
    });

    // A bearer token cannot be checked against the revocation list: refused, 503 (fail closed).
    const withToken = await call(`${url}/v1/auth/me`, { headers: bearer });
    expect(problemOf(withToken)).toEqual({
      status: 503,
      type: 'application/problem+json',
      code: 'SERVICE_UNAVAILABLE',
    });
    expect(withToken.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(withToken.ms).toBeLessThan(PROMPT_MS);

    // The cached route falls back to the database: answered, never from the cache.
    for (let i = 0; i < 2; i++) {
      const res = await user();
      expect({ status: res.status, cache: res.headers.get('x-cache'), id: res.body }).toEqual({
        status: 200,
        cache: 'MISS',
        id: expect.objectContaining({ id: userId }),
      });
      expect(res.ms).toBeLessThan(PROMPT_MS);
    }

    // The limiter counts in this instance's memory: more requests than the window allows, and
    // the excess is refused (earlier anonymous requests of this outage count too).
    const counted = await Promise.all(Array.from({ length: LIMIT + 5 }, features));
    const answered = counted.filter((res) => res.status === 200);
    const refused429 = counted.filter((res) => res.status === 429);
    expect(answered.length + refused429.length).toBe(LIMIT + 5);
    expect(answered.length).toBeLessThanOrEqual(LIMIT);
    expect(problemOf(refused429[0])).toMatchObject({ status: 429, code: 'RATE_LIMITED' });
    expect(answered.every((res) => res.headers.get('x-ratelimit-remaining') !== null)).toBe(true);

    // Job creation: the queue is down, so 503 at once (the row is marked failed, not queued).
    const refused = await call(`${url}/v1/jobs`, {
      method: 'POST',
      headers: key,
      json: { type: 'data.process', payload: { items: [1, 2] } },
    });
    expect(problemOf(refused)).toEqual({
      status: 503,
      type: 'application/problem+json',
      code: 'SERVICE_UNAVAILABLE',
    });
    expect(refused.ms).toBeLessThan(PROMPT_MS);
    expect(
      await (services as FaultServices).postgres.query(
        "SELECT status FROM jobs WHERE type = 'data.process'",
      ),
    ).toEqual([{ status: 'failed' }]);

    await redis.restart();

    // The same process (never restarted) reconnects: tokens are checked again...
    await until(
      'a bearer token accepted again',
      async () =>
        (await call(`${url}/v1/auth/me`, { headers: bearer })).status === 200 || undefined,
      15_000,
      250,
    );
    await until(
      'readiness 200 again',
      async () => (await call(`${url}/health/ready`)).status === 200 || undefined,
      10_000,
      250,
    );
    expect((await call(`${url}/health`)).body).toMatchObject({
      status: 'healthy',
      checks: { redis: { status: 'up' }, queue: { status: 'up' } },
    });

    // ...the cache (a client of its own, reconnecting on its own schedule) stores and serves
    // again: a miss, then a hit...
    await until(
      'a cached response again',
      async () => {
        const [first, second] = [await user(), await user()];
        expect([first.status, second.status]).toEqual([200, 200]);
        return second.headers.get('x-cache') === 'HIT' || undefined;
      },
      10_000,
      250,
    );
    // A URL never cached before: exactly a miss, then a hit.
    const fresh = () => call(`${url}/v1/users/${userId}?after=outage`, { headers: key });
    const [miss, hit] = [await fresh(), await fresh()];
    expect([miss.headers.get('x-cache'), hit.headers.get('x-cache')]).toEqual(['MISS', 'HIT']);

    // ...jobs are accepted and run to completion...
    const accepted = await until(
      'a job accepted again',
      async () => {
        const res = await call(`${url}/v1/jobs`, {
          method: 'POST',
          headers: key,
          json: { type: 'data.process', payload: { items: [2, 4] } },
        });
        return res.status === 503 ? undefined : res;
      },
      15_000,
      250,
    );
    expect(accepted.status).toBe(202);
    const jobId = (accepted.body as { id: string }).id;
    const job = await until(
      'the job completed',
      async () => {
        const res = await call(`${url}/v1/jobs/${jobId}`, { headers: key });
        return (res.body as { status?: string }).status === 'completed' ? res.body : undefined;
      },
      15_000,
      250,
    );
    expect(job).toMatchObject({ status: 'completed', result: { count: 2, sum: 6 } });

    // ...and limits are counted in Redis again. This address's bucket in this instance's memory
    // was blocked by the burst during the outage, so a 200 means it is no longer counted there.
    // (Its bucket in the restarted Redis may not be empty: a bearer poll above whose revocation
    // check was refused while the client was still running its ready check is counted for this
    // address, as every refused credential is, and that count goes out a turn later, by then to
    // a ready Redis.)
    expect((await features()).status).toBe(200);
    // A client new to the API gets exactly the limit, then 429.
    const limited: Answer[] = [];
    for (let i = 0; i <= LIMIT; i++) limited.push(await getFrom('127.0.0.2', `${url}/v1/features`));
    expect(limited.slice(0, LIMIT).map((res) => res.status)).toEqual(Array(LIMIT).fill(200));
    expect(problemOf(limited[LIMIT])).toEqual({
      status: 429,
      type: 'application/problem+json',
      code: 'RATE_LIMITED',
    });

    // One process from start to end, and it still shuts down cleanly.
    const running = api as KeelProcess;
    expect(running.child.exitCode).toBeNull();
    running.child.kill('SIGTERM');
    expect(await within('exit after SIGTERM', running.exited, 15_000)).toBe(0);
  });
});
