import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { bearer, countRows, createUser, register, Session } from './helpers/identity';
import { eventually, identityRowCounts, sha256Hex, sleep } from './helpers/auth-checks';
import { invalidFields, problem, problemOf } from './helpers/problem';
import { startTestApp, TestApp } from './helpers/test-app';

const KEY_FORMAT = /^ak_[a-z0-9]{16}_[A-Za-z0-9_-]{43}$/;

interface CreatedKey {
  id: string;
  name: string;
  key: string;
  publicId: string;
  scopes: string[];
  expiresAt: string | null;
  createdAt: string;
}

function query<T>(t: TestApp, sql: string, params: unknown[] = []): Promise<T[]> {
  return t.app.get(DataSource).query<T[]>(sql, params);
}

async function createKey(
  t: TestApp,
  owner: Session,
  body: Record<string, unknown> = {},
): Promise<CreatedKey> {
  const res = await request(t.http)
    .post('/v1/api-keys')
    .set(bearer(owner.accessToken))
    .send({ name: 'test key', scopes: ['users:read'], ...body });
  if (res.status !== 201)
    throw new Error(`api key not created: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as CreatedKey;
}

function withKey(t: TestApp, key: string) {
  return request(t.http).get('/v1/users/me').set('X-API-Key', key);
}

/** The secret part of `ak_<publicId>_<secret>` (which may itself contain underscores). */
function secretOf(key: CreatedKey): string {
  return key.key.slice(`ak_${key.publicId}_`.length);
}

async function lastUsedAt(t: TestApp, id: string): Promise<Date | null> {
  const [row] = await query<{ last_used_at: Date | null }>(
    t,
    'SELECT last_used_at FROM api_keys WHERE id = $1',
    [id],
  );
  return row.last_used_at;
}

describe('Identity: /v1/api-keys', () => {
  let t: TestApp;
  let owner: Session;
  let admin: Session;

  beforeAll(async () => {
    t = await startTestApp();
    [owner, admin] = [await createUser(t, 'user'), await createUser(t, 'admin')];
  });
  afterAll(() => t.close());

  describe('creating and listing', () => {
    it('creates a key shown once, in the ak_<publicId>_<secret> format', async () => {
      const before = await countRows(t, 'api_keys');
      const res = await request(t.http)
        .post('/v1/api-keys')
        .set(bearer(owner.accessToken))
        .send({ name: 'billing export', scopes: ['users:read', 'jobs:read'] });

      expect(res.status).toBe(201);
      expect(res.body).toEqual({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        name: 'billing export',
        key: expect.stringMatching(KEY_FORMAT),
        publicId: expect.stringMatching(/^[a-z0-9]{16}$/),
        scopes: ['users:read', 'jobs:read'],
        userId: owner.user.id,
        expiresAt: null,
        lastUsedAt: null,
        revokedAt: null,
        createdAt: expect.any(String),
      });
      expect(res.body.key).toContain(`ak_${res.body.publicId}_`);
      expect(await countRows(t, 'api_keys')).toBe(before + 1);
    });

    it('keeps the given expiry', async () => {
      const expiresAt = new Date(Date.now() + 24 * 3600 * 1000).toISOString();
      const key = await createKey(t, owner, { expiresAt });

      expect(key.expiresAt).toBe(expiresAt);
      expect((await withKey(t, key.key)).status).toBe(200);
    });

    it('lists the key without its secret but with lastUsedAt and revokedAt', async () => {
      const created = await createKey(t, owner, { name: 'listed' });
      const res = await request(t.http).get('/v1/api-keys').set(bearer(owner.accessToken));

      expect(res.status).toBe(200);
      const listed = (res.body as Record<string, unknown>[]).find((k) => k.id === created.id);
      expect(listed).toEqual({
        id: created.id,
        name: 'listed',
        publicId: created.publicId,
        scopes: ['users:read'],
        userId: owner.user.id,
        expiresAt: null,
        lastUsedAt: null,
        revokedAt: null,
        createdAt: created.createdAt,
      });
      expect(res.text).not.toContain(secretOf(created));
    });

    it('stores only the SHA-256 of the secret, never the secret', async () => {
      const created = await createKey(t, owner);
      const secret = secretOf(created);

      const rows = await query<{ secret_hash: string; public_id: string }>(
        t,
        'SELECT secret_hash, public_id FROM api_keys WHERE id = $1',
        [created.id],
      );
      expect(rows).toEqual([{ secret_hash: sha256Hex(secret), public_id: created.publicId }]);
      const [all] = await query<{ dump: string }>(
        t,
        `SELECT string_agg(row_to_json(k)::text, ',') AS dump FROM api_keys k`,
      );
      expect(all.dump).toContain(created.publicId);
      expect(all.dump).not.toContain(secret);
    });

    it('accepts a name of exactly 100 characters and every known scope', async () => {
      const scopes = ['webhooks:write', 'jobs:write', 'jobs:read', 'users:read'];
      const key = await createKey(t, owner, { name: 'n'.repeat(100), scopes });

      expect(key.name).toHaveLength(100);
      expect(key.scopes).toEqual(scopes);
    });
  });

  describe('creation refused, nothing written', () => {
    const inAnHour = () => new Date(Date.now() + 3600 * 1000).toISOString();

    it.each([
      ['empty scopes', { scopes: [] }, ['scopes']],
      ['an unknown scope', { scopes: ['users:write'] }, ['scopes']],
      ['duplicate scopes', { scopes: ['users:read', 'users:read'] }, ['scopes']],
      ['scopes that are not a list', { scopes: 'users:read' }, ['scopes']],
      [
        'expiresAt in the past',
        { expiresAt: new Date(Date.now() - 1000).toISOString() },
        ['expiresAt'],
      ],
      ['expiresAt that is not a date', { expiresAt: 'next tuesday' }, ['expiresAt']],
      ['a name of 101 characters', { name: 'n'.repeat(101) }, ['name']],
      ['an empty name', { name: '  ' }, ['name']],
      ['a name with control characters', { name: 'bad\nname' }, ['name']],
      ['an extra field', { userId: '00000000-0000-4000-8000-000000000000' }, ['userId']],
      ['an extra secret field', { key: 'ak_aaaaaaaaaaaaaaaa_x', expiresAt: inAnHour() }, ['key']],
    ])('refuses %s with 400 VALIDATION_FAILED', async (_, overrides, fields) => {
      const before = await identityRowCounts(t);
      const res = await request(t.http)
        .post('/v1/api-keys')
        .set(bearer(owner.accessToken))
        .send({ name: 'refused', scopes: ['users:read'], ...overrides });

      expect(problemOf(res)).toEqual(problem(400, 'VALIDATION_FAILED'));
      expect(invalidFields(res)).toEqual(fields);
      expect(await identityRowCounts(t)).toEqual(before);
    });

    it('refuses a guest with 403 FORBIDDEN', async () => {
      const guest = await createUser(t, 'guest');
      const before = await identityRowCounts(t);
      const res = await request(t.http)
        .post('/v1/api-keys')
        .set(bearer(guest.accessToken))
        .send({ name: 'guest key', scopes: ['users:read'] });

      expect(problemOf(res)).toEqual(problem(403, 'FORBIDDEN'));
      expect(await identityRowCounts(t)).toEqual(before);
    });

    it('refuses a request without credentials with 401 UNAUTHORIZED', async () => {
      const before = await identityRowCounts(t);
      const res = await request(t.http)
        .post('/v1/api-keys')
        .send({ name: 'anonymous key', scopes: ['users:read'] });

      expect(problemOf(res)).toEqual(problem(401, 'UNAUTHORIZED'));
      expect(await identityRowCounts(t)).toEqual(before);
    });
  });

  describe('authenticating with X-API-Key', () => {
    it('acts as its owner on a route that accepts its scope', async () => {
      const key = await createKey(t, owner);
      const res = await withKey(t, key.key);

      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ id: owner.user.id, email: owner.email });
      expect(res.headers['cache-control']).toBe('no-store');
    });

    it('is refused with 403 FORBIDDEN on routes that declare no API-key scope, writing nothing', async () => {
      const key = await createKey(t, owner);
      const before = await identityRowCounts(t);

      const rename = await request(t.http)
        .patch('/v1/users/me')
        .set('X-API-Key', key.key)
        .send({ name: 'Renamed by a key' });
      expect(problemOf(rename)).toEqual(problem(403, 'FORBIDDEN'));
      const mint = await request(t.http)
        .post('/v1/api-keys')
        .set('X-API-Key', key.key)
        .send({ name: 'minted by a key', scopes: ['users:read'] });
      expect(problemOf(mint)).toEqual(problem(403, 'FORBIDDEN'));

      expect(await identityRowCounts(t)).toEqual(before);
      const [row] = await query<{ name: string }>(t, 'SELECT name FROM users WHERE id = $1', [
        owner.user.id,
      ]);
      expect(row.name).not.toBe('Renamed by a key');
    });

    it('is refused with 403 FORBIDDEN when its scopes lack the one the route accepts', async () => {
      const key = await createKey(t, owner, { scopes: ['jobs:read', 'webhooks:write'] });

      expect(problemOf(await withKey(t, key.key))).toEqual(problem(403, 'FORBIDDEN'));
    });

    it.each([
      ['too short', 'ak_short'],
      ['a bearer header value', 'Bearer x'],
      ['10 kB of junk', 'x'.repeat(10 * 1024)],
      ['empty', ''],
      ['with an upper-case publicId', `ak_${'A'.repeat(16)}_${'s'.repeat(43)}`],
    ])('refuses a malformed key (%s) with 401 INVALID_API_KEY', async (_, header) => {
      expect(problemOf(await withKey(t, header))).toEqual(problem(401, 'INVALID_API_KEY'));
    });

    it('refuses a well-formed key with an unknown publicId with 401 INVALID_API_KEY', async () => {
      const key = await createKey(t, owner);
      const unknown = `ak_${'0'.repeat(16)}_${secretOf(key)}`;

      expect(unknown).toMatch(KEY_FORMAT);
      expect(problemOf(await withKey(t, unknown))).toEqual(problem(401, 'INVALID_API_KEY'));
    });

    it('refuses the right publicId with a wrong secret with 401 INVALID_API_KEY', async () => {
      const key = await createKey(t, owner);
      const forged = `ak_${key.publicId}_${randomBytes(32).toString('base64url')}`;

      expect(forged).toMatch(KEY_FORMAT);
      expect(problemOf(await withKey(t, forged))).toEqual(problem(401, 'INVALID_API_KEY'));
      expect((await withKey(t, key.key)).status).toBe(200);
    });

    it('refuses a revoked key with 401 INVALID_API_KEY and lists it as revoked', async () => {
      const key = await createKey(t, owner);
      expect((await withKey(t, key.key)).status).toBe(200);

      const res = await request(t.http)
        .delete(`/v1/api-keys/${key.id}`)
        .set(bearer(owner.accessToken));
      expect(res.status).toBe(204);

      expect(problemOf(await withKey(t, key.key))).toEqual(problem(401, 'INVALID_API_KEY'));
      const list = await request(t.http).get('/v1/api-keys').set(bearer(owner.accessToken));
      const listed = (list.body as { id: string; revokedAt: string | null }[]).find(
        (k) => k.id === key.id,
      );
      expect(listed?.revokedAt).toEqual(expect.any(String));
    });

    it('refuses an expired key with 401 INVALID_API_KEY', async () => {
      const key = await createKey(t, owner, {
        expiresAt: new Date(Date.now() + 3600 * 1000).toISOString(),
      });
      expect((await withKey(t, key.key)).status).toBe(200);

      await query(t, `UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = $1`, [
        key.id,
      ]);

      expect(problemOf(await withKey(t, key.key))).toEqual(problem(401, 'INVALID_API_KEY'));
    });

    it('refuses the key of a deactivated owner with 401 INVALID_API_KEY', async () => {
      const leaving = await createUser(t, 'user');
      const key = await createKey(t, leaving);
      expect((await withKey(t, key.key)).status).toBe(200);

      const res = await request(t.http)
        .patch(`/v1/users/${leaving.user.id}`)
        .set(bearer(admin.accessToken))
        .send({ isActive: false });
      expect(res.status).toBe(200);

      expect(problemOf(await withKey(t, key.key))).toEqual(problem(401, 'INVALID_API_KEY'));
    });

    it("limits a key to its owner's role: an admin's key lists users, a user's key may not", async () => {
      const adminKey = await createKey(t, admin);
      const userKey = await createKey(t, owner);

      const allowed = await request(t.http).get('/v1/users').set('X-API-Key', adminKey.key);
      expect(allowed.status).toBe(200);
      expect(allowed.body.meta.total).toBeGreaterThanOrEqual(2);
      const refused = await request(t.http).get('/v1/users').set('X-API-Key', userKey.key);
      expect(problemOf(refused)).toEqual(problem(403, 'FORBIDDEN'));
    });

    it('records lastUsedAt on first use and does not rewrite it on a second use within a minute', async () => {
      const key = await createKey(t, owner);
      expect(await lastUsedAt(t, key.id)).toBeNull();

      expect((await withKey(t, key.key)).status).toBe(200);
      const first = await eventually(() => lastUsedAt(t, key.id));
      expect(first).toBeInstanceOf(Date);

      // Far enough apart that a rewrite would store another millisecond.
      await sleep(20);
      expect((await withKey(t, key.key)).status).toBe(200);
      // The write is asynchronous: give a (wrong) second write the time to land.
      await sleep(300);
      expect(await lastUsedAt(t, key.id)).toEqual(first);

      const list = await request(t.http).get('/v1/api-keys').set(bearer(owner.accessToken));
      const listed = (list.body as { id: string; lastUsedAt: string | null }[]).find(
        (k) => k.id === key.id,
      );
      expect(listed?.lastUsedAt).toBe(first?.toISOString());
    });
  });

  describe('ownership', () => {
    let alice: Session;
    let bob: Session;
    let aliceKey: CreatedKey;
    let bobKey: CreatedKey;

    beforeAll(async () => {
      [alice, bob] = [await register(t), await register(t)];
      [aliceKey, bobKey] = [await createKey(t, alice), await createKey(t, bob)];
    });

    it("never lists another user's keys to a user", async () => {
      const res = await request(t.http).get('/v1/api-keys').set(bearer(alice.accessToken));

      expect(res.status).toBe(200);
      const ids = (res.body as { id: string; userId: string }[]).map((k) => k.id);
      expect(ids).toContain(aliceKey.id);
      expect(ids).not.toContain(bobKey.id);
      expect(new Set((res.body as { userId: string }[]).map((k) => k.userId))).toEqual(
        new Set([alice.user.id]),
      );
    });

    it("lists every user's keys to an admin", async () => {
      const res = await request(t.http).get('/v1/api-keys').set(bearer(admin.accessToken));

      expect(res.status).toBe(200);
      const ids = (res.body as { id: string }[]).map((k) => k.id);
      expect(ids).toEqual(expect.arrayContaining([aliceKey.id, bobKey.id]));
    });

    it("answers a user deleting another user's key with 404 NOT_FOUND, and the key keeps working", async () => {
      const res = await request(t.http)
        .delete(`/v1/api-keys/${bobKey.id}`)
        .set(bearer(alice.accessToken));

      expect(problemOf(res)).toEqual(problem(404, 'NOT_FOUND'));
      const [row] = await query<{ revoked_at: Date | null }>(
        t,
        'SELECT revoked_at FROM api_keys WHERE id = $1',
        [bobKey.id],
      );
      expect(row.revoked_at).toBeNull();
      expect((await withKey(t, bobKey.key)).status).toBe(200);
    });

    it("lets an admin revoke another user's key", async () => {
      const key = await createKey(t, bob);
      const res = await request(t.http)
        .delete(`/v1/api-keys/${key.id}`)
        .set(bearer(admin.accessToken));

      expect(res.status).toBe(204);
      expect(problemOf(await withKey(t, key.key))).toEqual(problem(401, 'INVALID_API_KEY'));
    });

    it('answers 204 to deleting the same key twice', async () => {
      const key = await createKey(t, alice);
      const remove = () =>
        request(t.http).delete(`/v1/api-keys/${key.id}`).set(bearer(alice.accessToken));

      expect((await remove()).status).toBe(204);
      expect((await remove()).status).toBe(204);
      expect(problemOf(await withKey(t, key.key))).toEqual(problem(401, 'INVALID_API_KEY'));
    });

    it('refuses a key id that is not a UUID with 400 VALIDATION_FAILED', async () => {
      const res = await request(t.http)
        .delete('/v1/api-keys/not-a-uuid')
        .set(bearer(alice.accessToken));

      expect(problemOf(res)).toEqual(problem(400, 'VALIDATION_FAILED'));
      expect(invalidFields(res)).toEqual(['id']);
    });
  });
});
