import type Redis from 'ioredis';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { getStorageToken } from '@nestjs/throttler';
import { RATE_LIMITED_DETAIL } from '../src/common/rate-limit/rate-limit.module';
import type { RateLimitStorage } from '../src/common/rate-limit/rate-limit-storage';
import { REDIS } from '../src/redis/redis.module';
import { UserResponse } from '../src/users/dto/user-response.dto';
import { Role } from '../src/users/role';
import { UsersService } from '../src/users/users.service';
import {
  accessClaims,
  bearer,
  countRows,
  DEFAULT_PASSWORD,
  forgeJwt,
  uniqueEmail,
} from './helpers/identity';
import { problem, problemOf } from './helpers/problem';
import { describeWithSharedServices } from './helpers/shared-services';
import { startTestApp, TestApp } from './helpers/test-app';

interface QuietSession {
  user: UserResponse;
  email: string;
  token: string;
}

/**
 * A user and an access token signed with the app's key, made without HTTP: logging in would
 * itself be counted by the limits under test.
 */
async function quietSession(t: TestApp, role: Role = 'user'): Promise<QuietSession> {
  const email = uniqueEmail(role);
  const user = await t.app
    .get(UsersService)
    .create({ email, password: DEFAULT_PASSWORD, name: `Quiet ${role}`, role });
  const token = forgeJwt(accessClaims(t, user), { secret: t.config.jwt.secret });
  return { user, email, token };
}

function me(t: TestApp, session: QuietSession) {
  return request(t.http).get('/v1/users/me').set(bearer(session.token));
}

/** The X-RateLimit-* headers of the default window (and Retry-After, present on a 429). */
function limitHeaders(res: request.Response) {
  return {
    limit: res.headers['x-ratelimit-limit'],
    remaining: res.headers['x-ratelimit-remaining'],
    reset: res.headers['x-ratelimit-reset'],
    retryAfter: res.headers['retry-after'],
  };
}

/** `rate_limited_requests_total{limit="<limit>"}` as /metrics shows it (0 before the first). */
async function limitedCount(t: TestApp, limit: string): Promise<number> {
  const { text } = await request(t.http).get('/metrics');
  const match = new RegExp(`^rate_limited_requests_total\\{limit="${limit}"\\} (\\d+)$`, 'm').exec(
    text,
  );
  return Number(match?.[1] ?? 0);
}

const SECONDS = /^[1-9]\d*$/;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('Rate limits: the default window, per principal', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ env: { RATE_LIMIT_MAX: '3', RATE_LIMIT_TTL_S: '60' } });
  });
  afterAll(() => t.close());

  it('refuses the request after RATE_LIMIT_MAX with 429 RATE_LIMITED, writing nothing', async () => {
    const admin = await quietSession(t, 'admin');
    const allowed = [await me(t, admin), await me(t, admin), await me(t, admin)];
    expect(allowed.map((res) => res.status)).toEqual([200, 200, 200]);
    expect(allowed.map(limitHeaders)).toEqual(
      ['2', '1', '0'].map((remaining) => ({
        limit: '3',
        remaining,
        reset: expect.stringMatching(SECONDS),
        retryAfter: undefined,
      })),
    );
    const before = await countRows(t, 'users');
    const refused = await request(t.http)
      .post('/v1/users')
      .set(bearer(admin.token))
      .send({ email: uniqueEmail(), password: DEFAULT_PASSWORD, name: 'Too Many' });
    expect(problemOf(refused)).toEqual(problem(429, 'RATE_LIMITED'));
    expect(refused.body.detail).toBe(RATE_LIMITED_DETAIL);
    expect(limitHeaders(refused)).toEqual({
      limit: '3',
      remaining: '0',
      reset: expect.stringMatching(SECONDS),
      retryAfter: expect.stringMatching(SECONDS),
    });
    expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(60);
    expect(await countRows(t, 'users')).toBe(before);
  });

  it('counts each user on their own: another user still gets 200', async () => {
    const [first, second] = await Promise.all([quietSession(t), quietSession(t)]);
    for (let i = 0; i < 3; i += 1) await me(t, first);
    expect(problemOf(await me(t, first))).toEqual(problem(429, 'RATE_LIMITED'));
    const other = await me(t, second);
    expect(other.status).toBe(200);
    expect(limitHeaders(other)).toMatchObject({ limit: '3', remaining: '2' });
  });

  it('counts anonymous requests per client IP, apart from the users on that IP', async () => {
    const anonymous = [1, 2, 3].map(() => request(t.http).get('/v1/features'));
    expect((await Promise.all(anonymous)).map((res) => res.status)).toEqual([200, 200, 200]);
    const before = await countRows(t, 'users');
    const register = await request(t.http)
      .post('/v1/auth/register')
      .send({ email: uniqueEmail(), password: DEFAULT_PASSWORD, name: 'Anonymous' });
    expect(problemOf(register)).toEqual(problem(429, 'RATE_LIMITED'));
    expect(await countRows(t, 'users')).toBe(before);
    expect(problemOf(await request(t.http).get('/v1/features'))).toEqual(
      problem(429, 'RATE_LIMITED'),
    );
    expect((await me(t, await quietSession(t))).status).toBe(200);
  });

  it('counts refusals in rate_limited_requests_total{limit="default"}', async () => {
    const session = await quietSession(t);
    for (let i = 0; i < 3; i += 1) await me(t, session);
    const before = await limitedCount(t, 'default');
    expect((await me(t, session)).status).toBe(429);
    expect((await me(t, session)).status).toBe(429);
    expect(await limitedCount(t, 'default')).toBe(before + 2);
  });
});

describe('Rate limits: refused credentials count per IP', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ env: { RATE_LIMIT_MAX: '3' } });
  });
  afterAll(() => t.close());

  it('limits guessing of tokens and API keys like any anonymous request', async () => {
    const guesses = [
      request(t.http).get('/v1/users/me').set(bearer('not-a-token')),
      request(t.http)
        .get('/v1/users/me')
        .set('X-API-Key', `ak_${'a'.repeat(16)}_${'b'.repeat(43)}`),
      request(t.http).get('/v1/users/me'),
    ];
    const refusals = await Promise.all(guesses);
    expect(refusals.map((res) => res.status)).toEqual([401, 401, 401]);
    expect(problemOf(await request(t.http).get('/v1/users/me').set(bearer('guess-4')))).toEqual(
      problem(429, 'RATE_LIMITED'),
    );
    // A signed-in user on the same IP has a bucket of their own.
    expect((await me(t, await quietSession(t))).status).toBe(200);
  });
});

describe('Rate limits: the strict credentials window, per IP', () => {
  let t: TestApp;
  let account: QuietSession;

  beforeAll(async () => {
    t = await startTestApp({ env: { RATE_LIMIT_AUTH_MAX: '2', RATE_LIMIT_AUTH_TTL_S: '60' } });
    account = await quietSession(t);
  });
  afterAll(() => t.close());

  const login = () =>
    request(t.http)
      .post('/v1/auth/login')
      .send({ email: account.email, password: DEFAULT_PASSWORD });
  const token = () =>
    request(t.http)
      .post('/v1/auth/token')
      .type('form')
      .send({ grant_type: 'password', username: account.email, password: DEFAULT_PASSWORD });

  it('shares one bucket between login, token and register, and refuses the third even with correct credentials', async () => {
    expect((await login()).status).toBe(200);
    expect((await token()).status).toBe(200);
    const before = await countRows(t, 'users');
    const email = uniqueEmail();
    const register = await request(t.http)
      .post('/v1/auth/register')
      .send({ email, password: DEFAULT_PASSWORD, name: 'Third Try' });
    expect(problemOf(register)).toEqual(problem(429, 'RATE_LIMITED'));
    expect(register.headers['retry-after']).toMatch(SECONDS);
    expect(await countRows(t, 'users')).toBe(before);
    const refusedLogin = await login();
    expect(problemOf(refusedLogin)).toEqual(problem(429, 'RATE_LIMITED'));
    expect(limitHeaders(refusedLogin)).toEqual({
      limit: '2',
      remaining: '0',
      reset: expect.stringMatching(SECONDS),
      retryAfter: expect.stringMatching(SECONDS),
    });
    expect(problemOf(await token())).toEqual(problem(429, 'RATE_LIMITED'));
  });

  it('leaves every other route alone, refresh included', async () => {
    expect((await login()).status).toBe(429);
    expect((await request(t.http).get('/v1/features')).status).toBe(200);
    expect((await me(t, account)).status).toBe(200);
    const refresh = await request(t.http)
      .post('/v1/auth/refresh')
      .send({ refreshToken: `rt_${'x'.repeat(43)}` });
    expect(problemOf(refresh)).toEqual(problem(401, 'INVALID_TOKEN'));
  });

  it('counts refusals in rate_limited_requests_total{limit="auth"}', async () => {
    const before = await limitedCount(t, 'auth');
    expect((await login()).status).toBe(429);
    expect(await limitedCount(t, 'auth')).toBe(before + 1);
  });
});

describe('Rate limits: the hourly window, per user', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ env: { RATE_LIMIT_HOURLY_MAX: '2' } });
  });
  afterAll(() => t.close());

  it("refuses a user's third request in the hour with 429, writing nothing", async () => {
    const [session, other] = await Promise.all([quietSession(t), quietSession(t)]);
    expect((await me(t, session)).status).toBe(200);
    expect((await me(t, session)).status).toBe(200);
    const before = await limitedCount(t, 'hourly');
    const refused = await request(t.http)
      .patch('/v1/users/me')
      .set(bearer(session.token))
      .send({ name: 'Renamed Too Often' });
    expect(problemOf(refused)).toEqual(problem(429, 'RATE_LIMITED'));
    expect(refused.headers['retry-after']).toMatch(SECONDS);
    expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(3600);
    expect(refused.headers['x-ratelimit-limit']).toBe('2');
    expect((await t.app.get(UsersService).getResponse(session.user.id)).name).toBe('Quiet user');
    expect(await limitedCount(t, 'hourly')).toBe(before + 1);
    expect((await me(t, other)).status).toBe(200);
  });

  it('does not apply to anonymous requests', async () => {
    const responses = [];
    for (let i = 0; i < 5; i += 1) responses.push(await request(t.http).get('/v1/features'));
    expect(responses.map((res) => res.status)).toEqual([200, 200, 200, 200, 200]);
  });
});

describe('Rate limits at one request per window', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({
      env: { RATE_LIMIT_MAX: '1', RATE_LIMIT_AUTH_MAX: '1', RATE_LIMIT_HOURLY_MAX: '1' },
    });
  });
  afterAll(() => t.close());

  it('never limits health, readiness and metrics', async () => {
    const statuses: Record<string, number[]> = {};
    for (const path of ['/health/live', '/health/ready', '/health', '/metrics']) {
      statuses[path] = [];
      for (let i = 0; i < 8; i += 1) statuses[path].push((await request(t.http).get(path)).status);
    }
    expect(statuses).toEqual({
      '/health/live': Array(8).fill(200),
      '/health/ready': Array(8).fill(200),
      '/health': Array(8).fill(200),
      '/metrics': Array(8).fill(200),
    });
    // The limits are on in this app: a business route is refused on the second request.
    const session = await quietSession(t);
    expect((await me(t, session)).status).toBe(200);
    expect(problemOf(await me(t, session))).toEqual(problem(429, 'RATE_LIMITED'));
  });

  it('counts a request in every window at once, and names the shortest when several refuse', async () => {
    const session = await quietSession(t);
    const allowed = await me(t, session);
    expect(allowed.status).toBe(200);
    expect(allowed.headers['x-ratelimit-remaining']).toBe('0');
    expect(allowed.headers['x-ratelimit-limit-hourly']).toBe('1');
    expect(allowed.headers['x-ratelimit-remaining-hourly']).toBe('0');
    const hourlyBefore = await limitedCount(t, 'hourly');
    const defaultBefore = await limitedCount(t, 'default');
    const refused = await me(t, session);
    expect(problemOf(refused)).toEqual(problem(429, 'RATE_LIMITED'));
    // Both windows are spent; the headers speak for the default one (60 s), not the hour.
    expect(refused.headers['retry-after-hourly']).toMatch(SECONDS);
    expect(Number(refused.headers['retry-after-hourly'])).toBeGreaterThan(60);
    expect(refused.headers['retry-after']).toMatch(SECONDS);
    expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(60);
    expect(refused.headers['x-ratelimit-reset']).toBe(refused.headers['retry-after']);
    expect(await limitedCount(t, 'default')).toBe(defaultBefore + 1);
    expect(await limitedCount(t, 'hourly')).toBe(hourlyBefore);
  });

  it('ignores X-Forwarded-For with TRUST_PROXY=false, the default', async () => {
    const features = (forwardedFor: string) =>
      request(t.http).get('/v1/features').set('X-Forwarded-For', forwardedFor);
    expect((await features('203.0.113.7')).status).toBe(200);
    expect(problemOf(await features('203.0.113.8'))).toEqual(problem(429, 'RATE_LIMITED'));
  });
});

describe('Rate limits behind a trusted proxy (TRUST_PROXY=true)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ env: { RATE_LIMIT_MAX: '1', TRUST_PROXY: 'true' } });
  });
  afterAll(() => t.close());

  it('gives each client named by X-Forwarded-For its own bucket', async () => {
    const features = (forwardedFor: string) =>
      request(t.http).get('/v1/features').set('X-Forwarded-For', forwardedFor);
    expect((await features('203.0.113.7')).status).toBe(200);
    expect(problemOf(await features('203.0.113.7'))).toEqual(problem(429, 'RATE_LIMITED'));
    expect((await features('203.0.113.8')).status).toBe(200);
    // The client is the first address of the chain, not the proxy that appended the last one.
    expect((await features('198.51.100.1, 203.0.113.7')).status).toBe(200);
    expect(problemOf(await features('198.51.100.1, 203.0.113.9'))).toEqual(
      problem(429, 'RATE_LIMITED'),
    );
  });

  it('counts IPv6 clients by their /64: another address of the same network shares the bucket', async () => {
    const features = (forwardedFor: string) =>
      request(t.http).get('/v1/features').set('X-Forwarded-For', forwardedFor);
    expect((await features('2001:db8:1:2::1')).status).toBe(200);
    expect(problemOf(await features('2001:db8:1:2:ffff:ffff:ffff:fffe'))).toEqual(
      problem(429, 'RATE_LIMITED'),
    );
    expect((await features('2001:db8:1:3::1')).status).toBe(200);
  });
});

describe('Rate limits: the window passes', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ env: { RATE_LIMIT_MAX: '1', RATE_LIMIT_TTL_S: '1' } });
  });
  afterAll(() => t.close());

  it('lets the same caller in again once RATE_LIMIT_TTL_S has passed', async () => {
    const session = await quietSession(t);
    expect((await me(t, session)).status).toBe(200);
    const refused = await me(t, session);
    expect(problemOf(refused)).toEqual(problem(429, 'RATE_LIMITED'));
    expect(refused.headers['retry-after']).toBe('1');
    await sleep(1_300);
    expect((await me(t, session)).status).toBe(200);
  });
});

describeWithSharedServices('Rate limits shared by two instances', () => {
  const prefix = `test:${randomUUID()}:`;
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    const env = { REDIS_PREFIX: prefix, RATE_LIMIT_MAX: '2' };
    a = await startTestApp({ env });
    b = await startTestApp({ env, databaseUrl: a.database.url });
  });
  afterAll(async () => {
    await b.close();
    await a.close();
  });

  it("counts a user's requests to either instance in one window", async () => {
    const session = await quietSession(a);
    expect((await me(a, session)).status).toBe(200);
    expect((await me(b, session)).status).toBe(200);
    expect(problemOf(await me(a, session))).toEqual(problem(429, 'RATE_LIMITED'));
    expect(problemOf(await me(b, session))).toEqual(problem(429, 'RATE_LIMITED'));
  });

  it('keeps its counters under REDIS_PREFIX, each with its window as expiry', async () => {
    const session = await quietSession(a);
    expect((await me(a, session)).status).toBe(200);
    const redis = a.app.get<Redis>(REDIS);
    const keys = await redis.keys(`*user:${session.user.id}*`);
    expect(keys.every((key) => key.startsWith(prefix))).toBe(true);
    expect(keys.filter((key) => key.includes(':rate:')).sort()).toEqual([
      `${prefix}rate:default:user:${session.user.id}:hits`,
      `${prefix}rate:hourly:user:${session.user.id}:hits`,
    ]);
    const ttl = await redis.pttl(`${prefix}rate:default:user:${session.user.id}:hits`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(a.config.rateLimit.ttlSeconds * 1000);
  });

  it('counts each window of one call on its own, in order, and blocks past the limit', async () => {
    const storage = a.app.get<RateLimitStorage>(getStorageToken(), { strict: false });
    const key = `${prefix}rate:probe:${randomUUID()}`;
    const short = {
      name: 'default',
      key: `${key}:short`,
      ttl: 60_000,
      limit: 1,
      blockDuration: 5_000,
    };
    const long = {
      name: 'hourly',
      key: `${key}:long`,
      ttl: 3_600_000,
      limit: 5,
      blockDuration: 3_600_000,
    };
    expect(await storage.incrementAll([short, long])).toEqual([
      { totalHits: 1, timeToExpire: 60, isBlocked: false, timeToBlockExpire: 0 },
      { totalHits: 1, timeToExpire: 3600, isBlocked: false, timeToBlockExpire: 0 },
    ]);
    // @nestjs/throttler's own single-window call goes through the same script.
    expect(
      await storage.increment(short.key, short.ttl, short.limit, short.blockDuration, short.name),
    ).toEqual({ totalHits: 2, timeToExpire: 60, isBlocked: true, timeToBlockExpire: 5 });
    const [blocked, counted] = await storage.incrementAll([short, long]);
    expect(blocked).toMatchObject({ totalHits: 3, isBlocked: true, timeToBlockExpire: 5 });
    expect(counted).toMatchObject({ totalHits: 2, isBlocked: false });
  });

  it("counts an IP's anonymous requests to either instance in one window", async () => {
    expect((await request(a.http).get('/v1/features')).status).toBe(200);
    expect((await request(b.http).get('/v1/features')).status).toBe(200);
    expect(problemOf(await request(b.http).get('/v1/features'))).toEqual(
      problem(429, 'RATE_LIMITED'),
    );
  });
});
