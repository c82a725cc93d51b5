import type Redis from 'ioredis';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { RevocationStore } from '../src/auth/tokens/revocation-store';
import { CacheService } from '../src/common/cache/cache.service';
import { REDIS } from '../src/redis/redis.module';
import {
  accessClaims,
  bearer,
  createUser,
  DEFAULT_PASSWORD,
  forgeJwt,
  Session,
  uniqueEmail,
} from './helpers/identity';
import { CacheProbeModule } from './helpers/cache-probe.module';
import { problem, problemOf } from './helpers/problem';
import { describeWithSharedServices } from './helpers/shared-services';
import { startTestApp, TestApp } from './helpers/test-app';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function getUser(t: TestApp, id: string, session: Session) {
  return request(t.http).get(`/v1/users/${id}`).set(bearer(session.accessToken));
}

/** A counter's value in the Prometheus text of /metrics. */
async function counterValue(t: TestApp, name: string): Promise<number> {
  const { text } = await request(t.http).get('/metrics');
  const match = new RegExp(`^${name} (\\d+)$`, 'm').exec(text);
  return Number(match?.[1] ?? 0);
}

async function usersByRole(t: TestApp): Promise<Record<string, number>> {
  const rows = await t.app
    .get(DataSource)
    .query<{ role: string; n: number }[]>(
      `SELECT role, count(*)::int AS n FROM users GROUP BY role`,
    );
  return { admin: 0, user: 0, guest: 0, ...Object.fromEntries(rows.map((r) => [r.role, r.n])) };
}

describe('Response cache', () => {
  let t: TestApp;
  let admin: Session;
  let alice: Session;
  let bob: Session;

  beforeAll(async () => {
    t = await startTestApp({ imports: [CacheProbeModule] });
    [admin, alice, bob] = await Promise.all([
      createUser(t, 'admin'),
      createUser(t, 'user', 'Alice'),
      createUser(t, 'user', 'Bob'),
    ]);
  });
  afterAll(() => t.close());

  describe('GET /v1/users/:id', () => {
    it('answers the first read with X-Cache: MISS and the second from the cache, same body', async () => {
      const first = await getUser(t, alice.user.id, alice);
      const second = await getUser(t, alice.user.id, alice);
      expect([first.status, first.headers['x-cache']]).toEqual([200, 'MISS']);
      expect([second.status, second.headers['x-cache']]).toEqual([200, 'HIT']);
      expect(second.body).toEqual(first.body);
      expect(second.body.id).toBe(alice.user.id);
    });

    it("keeps an entry per principal: the admin's read is a miss, another user never gets it", async () => {
      const target = await createUser(t, 'user', 'Target');
      expect((await getUser(t, target.user.id, target)).headers['x-cache']).toBe('MISS');
      expect((await getUser(t, target.user.id, target)).headers['x-cache']).toBe('HIT');
      const byAdmin = await getUser(t, target.user.id, admin);
      expect([byAdmin.status, byAdmin.headers['x-cache']]).toEqual([200, 'MISS']);
      expect(byAdmin.body.id).toBe(target.user.id);
      for (let i = 0; i < 2; i += 1) {
        const byBob = await getUser(t, target.user.id, bob);
        expect(problemOf(byBob)).toEqual(problem(404, 'NOT_FOUND'));
        // Never served from the cache; error answers carry no X-Cache at all.
        expect(byBob.headers['x-cache']).toBeUndefined();
        expect(JSON.stringify(byBob.body)).not.toContain(target.email);
      }
    });

    it('shares the entry of /v1/users/:id with /users/:id chosen by X-API-Version, per principal', async () => {
      const target = await createUser(t, 'user', 'Versioned');
      const versioned = await getUser(t, target.user.id, target);
      expect(versioned.headers['x-cache']).toBe('MISS');
      // The header rewrites the URL to /v1/users/:id before the cache sees it: the same entry.
      const byHeader = await request(t.http)
        .get(`/users/${target.user.id}`)
        .set('X-API-Version', '1')
        .set(bearer(target.accessToken));
      expect([byHeader.status, byHeader.headers['x-cache']]).toEqual([200, 'HIT']);
      expect(byHeader.headers['x-api-version']).toBe('1');
      expect(byHeader.body).toEqual(versioned.body);
      const byDefault = await request(t.http)
        .get(`/users/${target.user.id}`)
        .set(bearer(target.accessToken));
      expect(byDefault.headers['x-cache']).toBe('HIT');
      const otherByHeader = await request(t.http)
        .get(`/users/${target.user.id}`)
        .set('X-API-Version', '1')
        .set(bearer(bob.accessToken));
      expect(problemOf(otherByHeader)).toEqual(problem(404, 'NOT_FOUND'));
      // Version 2 has no such route: never the v1 entry.
      const v2 = await request(t.http)
        .get(`/users/${target.user.id}`)
        .set('X-API-Version', '2')
        .set(bearer(target.accessToken));
      expect(problemOf(v2)).toEqual(problem(404, 'NOT_FOUND'));
      expect(v2.headers['x-cache']).toBeUndefined();
    });

    it('keys by the query string too', async () => {
      const warm = await getUser(t, alice.user.id, alice);
      expect(warm.status).toBe(200);
      const withQuery = await request(t.http)
        .get(`/v1/users/${alice.user.id}?view=${randomUUID()}`)
        .set(bearer(alice.accessToken));
      expect([withQuery.status, withQuery.headers['x-cache']]).toEqual([200, 'MISS']);
    });

    it("makes the next read a miss with the new name after an admin's PATCH", async () => {
      const target = await createUser(t, 'user', 'Before Admin Patch');
      await getUser(t, target.user.id, target);
      expect((await getUser(t, target.user.id, target)).headers['x-cache']).toBe('HIT');
      const patched = await request(t.http)
        .patch(`/v1/users/${target.user.id}`)
        .set(bearer(admin.accessToken))
        .send({ name: 'After Admin Patch' });
      expect(patched.status).toBe(200);
      const next = await getUser(t, target.user.id, target);
      expect([next.headers['x-cache'], next.body.name]).toEqual(['MISS', 'After Admin Patch']);
      const cached = await getUser(t, target.user.id, target);
      expect([cached.headers['x-cache'], cached.body.name]).toEqual(['HIT', 'After Admin Patch']);
    });

    it('makes the next read a miss with the new name after PATCH /v1/users/me', async () => {
      const target = await createUser(t, 'user', 'Before Self Patch');
      await getUser(t, target.user.id, target);
      await getUser(t, target.user.id, admin);
      expect((await getUser(t, target.user.id, target)).headers['x-cache']).toBe('HIT');
      const patched = await request(t.http)
        .patch('/v1/users/me')
        .set(bearer(target.accessToken))
        .send({ name: 'After Self Patch' });
      expect(patched.status).toBe(200);
      const own = await getUser(t, target.user.id, target);
      expect([own.headers['x-cache'], own.body.name]).toEqual(['MISS', 'After Self Patch']);
      const byAdmin = await getUser(t, target.user.id, admin);
      expect([byAdmin.headers['x-cache'], byAdmin.body.name]).toEqual(['MISS', 'After Self Patch']);
    });

    it('never caches a 404 (nor marks it)', async () => {
      const unknown = randomUUID();
      for (let i = 0; i < 3; i += 1) {
        const res = await getUser(t, unknown, admin);
        expect(problemOf(res)).toEqual(problem(404, 'NOT_FOUND'));
        expect(res.headers['x-cache']).toBeUndefined();
      }
    });

    it('serves a deleted user as 404 at once, not from the cache', async () => {
      const target = await createUser(t, 'user', 'Soon Deleted');
      await getUser(t, target.user.id, admin);
      expect((await getUser(t, target.user.id, admin)).headers['x-cache']).toBe('HIT');
      const removed = await request(t.http)
        .delete(`/v1/users/${target.user.id}`)
        .set(bearer(admin.accessToken));
      expect(removed.status).toBe(204);
      expect(problemOf(await getUser(t, target.user.id, admin))).toEqual(problem(404, 'NOT_FOUND'));
    });
  });

  describe('per-route TTL', () => {
    it('recomputes a response once its route TTL (1 s) has passed', async () => {
      const first = await request(t.http).get('/v1/cache-probe');
      const second = await request(t.http).get('/v1/cache-probe');
      expect([first.headers['x-cache'], first.body]).toEqual(['MISS', { calls: 1 }]);
      expect([second.headers['x-cache'], second.body]).toEqual(['HIT', { calls: 1 }]);
      await sleep(1_200);
      const expired = await request(t.http).get('/v1/cache-probe');
      expect([expired.headers['x-cache'], expired.body]).toEqual(['MISS', { calls: 2 }]);
    });
  });

  describe('GET /v1/stats', () => {
    const stats = (session: Session = admin) =>
      request(t.http).get('/v1/stats').set(bearer(session.accessToken));

    it('is for admins: a user gets 403 FORBIDDEN', async () => {
      expect(problemOf(await stats(alice))).toEqual(problem(403, 'FORBIDDEN'));
      expect(problemOf(await request(t.http).get('/v1/stats'))).toEqual(
        problem(401, 'UNAUTHORIZED'),
      );
    });

    it('counts users by role, is cached, and a new user makes it stale', async () => {
      const byRole = await usersByRole(t);
      const total = byRole.admin + byRole.user + byRole.guest;
      const first = await stats();
      expect(first.status).toBe(200);
      expect(first.body.users).toEqual({ total, byRole });
      const second = await stats();
      expect([second.headers['x-cache'], second.body]).toEqual(['HIT', first.body]);
      const created = await request(t.http)
        .post('/v1/users')
        .set(bearer(admin.accessToken))
        .send({ email: uniqueEmail(), password: DEFAULT_PASSWORD, name: 'Counted', role: 'guest' });
      expect(created.status).toBe(201);
      const after = await stats();
      expect([after.headers['x-cache'], after.body.users]).toEqual([
        'MISS',
        { total: total + 1, byRole: { ...byRole, guest: byRole.guest + 1 } },
      ]);
    });
  });

  describe('read ahead of the revocation check', () => {
    afterEach(() => jest.restoreAllMocks());

    /** Records when each cache lookup starts and when each revocation check is asked and answered. */
    function recordOrder(): string[] {
      const events: string[] = [];
      const cache = t.app.get(CacheService);
      const lookup = cache.lookup.bind(cache);
      jest.spyOn(cache, 'lookup').mockImplementation((key, tags) => {
        events.push(`lookup ${key}`);
        return lookup(key, tags);
      });
      const revocations = t.app.get(RevocationStore);
      const isRevoked = revocations.isRevoked.bind(revocations);
      jest.spyOn(revocations, 'isRevoked').mockImplementation(async (...args) => {
        events.push('revocation asked');
        const revoked = await isRevoked(...args);
        events.push(`revocation answered: ${revoked}`);
        return revoked;
      });
      return events;
    }

    it("starts a known token's cache read while its revocation check is under way, and reads once", async () => {
      const session = await createUser(t, 'user', 'Early');
      const url = `/v1/users/${session.user.id}`;
      // The first request verifies the token's signature; from then on the token is known.
      expect((await getUser(t, session.user.id, session)).headers['x-cache']).toBe('MISS');
      const events = recordOrder();

      const hit = await getUser(t, session.user.id, session);

      expect([hit.status, hit.headers['x-cache'], hit.body.id]).toEqual([
        200,
        'HIT',
        session.user.id,
      ]);
      expect(events).toEqual([
        'revocation asked',
        `lookup http:user:${session.user.id}:${url}`,
        'revocation answered: false',
      ]);
    });

    it('neither serves nor counts what it read for a token revoked since', async () => {
      const session = await createUser(t, 'user', 'Revoked');
      await getUser(t, session.user.id, session);
      expect((await getUser(t, session.user.id, session)).headers['x-cache']).toBe('HIT');
      const logout = await request(t.http)
        .post('/v1/auth/logout')
        .set(bearer(session.accessToken))
        .send({ refreshToken: session.refreshToken });
      expect(logout.status).toBe(204);
      const hits = await counterValue(t, 'cache_hits_total');
      const events = recordOrder();

      const res = await getUser(t, session.user.id, session);

      expect(problemOf(res)).toEqual(problem(401, 'INVALID_TOKEN'));
      expect(res.headers['x-cache']).toBeUndefined();
      expect(events).toEqual([
        'revocation asked',
        `lookup http:user:${session.user.id}:/v1/users/${session.user.id}`,
        'revocation answered: true',
      ]);
      expect(await counterValue(t, 'cache_hits_total')).toBe(hits);
    });
  });

  describe('metrics', () => {
    it('counts hits and misses in cache_hits_total and cache_misses_total', async () => {
      const [hits, misses] = await Promise.all([
        counterValue(t, 'cache_hits_total'),
        counterValue(t, 'cache_misses_total'),
      ]);
      const url = `/v1/users/${alice.user.id}?metrics=${randomUUID()}`;
      const miss = await request(t.http).get(url).set(bearer(alice.accessToken));
      const hit = await request(t.http).get(url).set(bearer(alice.accessToken));
      expect([miss.headers['x-cache'], hit.headers['x-cache']]).toEqual(['MISS', 'HIT']);
      expect(await counterValue(t, 'cache_hits_total')).toBe(hits + 1);
      expect(await counterValue(t, 'cache_misses_total')).toBe(misses + 1);
    });
  });

  describeWithSharedServices('an invalidation the store refuses', () => {
    afterEach(() => jest.restoreAllMocks());

    const rename = (id: string, name: string) =>
      request(t.http).patch(`/v1/users/${id}`).set(bearer(admin.accessToken)).send({ name });
    /** SET on the shared Redis client (how the tag's new version is written) fails as in an outage. */
    const failSets = () =>
      jest
        .spyOn(t.app.get<Redis>(REDIS), 'set')
        .mockRejectedValue(new Error('Connection is closed.'));

    it('is not lost: the write succeeds, the stale entry is never served, and the tag is bumped once the store takes it', async () => {
      const target = await createUser(t, 'user', 'Before Outage');
      await getUser(t, target.user.id, target);
      expect((await getUser(t, target.user.id, target)).headers['x-cache']).toBe('HIT');

      const sets = failSets();
      expect((await rename(target.user.id, 'During Outage')).status).toBe(200);
      // Still refused: computed anew, and neither served from nor written to the cache.
      for (let i = 0; i < 2; i++) {
        const read = await getUser(t, target.user.id, target);
        expect([read.headers['x-cache'], read.body.name]).toEqual(['MISS', 'During Outage']);
      }

      sets.mockRestore();
      const next = await getUser(t, target.user.id, target);
      expect([next.headers['x-cache'], next.body.name]).toEqual(['MISS', 'During Outage']);
      const cached = await getUser(t, target.user.id, target);
      expect([cached.headers['x-cache'], cached.body.name]).toEqual(['HIT', 'During Outage']);
    });

    it('is retried in the background, so the stale entry is gone without a read on this instance', async () => {
      const target = await createUser(t, 'user', 'Before Blip');
      await getUser(t, target.user.id, target);
      const tagKey = `${t.config.redis.prefix}cache:tag:users`;
      const redis = t.app.get<Redis>(REDIS);

      // One refused SET: the invalidation's; the retry a second later lands.
      jest.spyOn(redis, 'set').mockRejectedValueOnce(new Error('Connection is closed.'));
      const before = await redis.get(tagKey);
      expect((await rename(target.user.id, 'After Blip')).status).toBe(200);
      expect(await redis.get(tagKey)).toBe(before);

      // Bounded: the retry runs every second.
      const deadline = Date.now() + 5000;
      while ((await redis.get(tagKey)) === before && Date.now() < deadline) await sleep(100);
      expect(await redis.get(tagKey)).not.toBe(before);
      const next = await getUser(t, target.user.id, target);
      expect([next.headers['x-cache'], next.body.name]).toEqual(['MISS', 'After Blip']);
    });
  });
});

describeWithSharedServices('Response cache shared by two instances', () => {
  const prefix = `test:${randomUUID()}:`;
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    a = await startTestApp({ env: { REDIS_PREFIX: prefix } });
    b = await startTestApp({ env: { REDIS_PREFIX: prefix }, databaseUrl: a.database.url });
  });
  afterAll(async () => {
    await b.close();
    await a.close();
  });

  it('serves on B what A cached, and a write on B makes A miss', async () => {
    const [admin, user] = await Promise.all([
      createUser(a, 'admin'),
      createUser(a, 'user', 'Shared'),
    ]);
    const onA = await getUser(a, user.user.id, user);
    const onB = await getUser(b, user.user.id, user);
    expect([onA.headers['x-cache'], onB.headers['x-cache']]).toEqual(['MISS', 'HIT']);
    expect(onB.body).toEqual(onA.body);
    const patched = await request(b.http)
      .patch(`/v1/users/${user.user.id}`)
      .set(bearer(admin.accessToken))
      .send({ name: 'Renamed On B' });
    expect(patched.status).toBe(200);
    const again = await getUser(a, user.user.id, user);
    expect([again.headers['x-cache'], again.body.name]).toEqual(['MISS', 'Renamed On B']);
  });
});

describe('Response cache with Redis unreachable', () => {
  const adminEmail = uniqueEmail('bootstrap');
  let t: TestApp;

  beforeAll(async () => {
    // The admin bootstrap invalidates the users' cache entries while Redis is unreachable.
    t = await startTestApp({
      redis: false,
      env: {
        REDIS_URL: 'redis://127.0.0.1:1',
        ADMIN_EMAIL: adminEmail,
        ADMIN_PASSWORD: DEFAULT_PASSWORD,
      },
      imports: [CacheProbeModule],
    });
  });
  afterAll(() => t.close());

  it('starts, and the bootstrap admin exists, without waiting for Redis', async () => {
    const [{ n }] = await t.app
      .get(DataSource)
      .query<{ n: number }[]>(`SELECT count(*)::int AS n FROM users WHERE email = $1`, [
        adminEmail,
      ]);
    expect(n).toBe(1);
  });

  it('fails authenticated requests closed with 503 SERVICE_UNAVAILABLE (revocation unknown)', async () => {
    const token = forgeJwt(accessClaims(t, { id: randomUUID(), role: 'admin' }), {
      secret: t.config.jwt.secret,
    });
    const res = await request(t.http).get('/v1/stats').set(bearer(token));
    expect(problemOf(res)).toEqual(problem(503, 'SERVICE_UNAVAILABLE'));
    expect(res.headers['retry-after']).toMatch(/^\d+$/);
  });

  it('still answers public routes, a cached one as a miss', async () => {
    const features = await request(t.http).get('/v1/features');
    expect(features.status).toBe(200);
    const probe = await request(t.http).get('/v1/cache-probe');
    expect([probe.status, probe.headers['x-cache']]).toEqual([200, 'MISS']);
  });
});
