import type Redis from 'ioredis';
import { randomBytes, randomUUID } from 'node:crypto';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { UserResponse } from '../src/users/dto/user-response.dto';
import { REDIS } from '../src/redis/redis.module';
import { Role } from '../src/users/role';
import { UsersService } from '../src/users/users.service';
import {
  bearer,
  countRows,
  createUser,
  DEFAULT_PASSWORD,
  login,
  Session,
  uniqueEmail,
} from './helpers/identity';
import { invalidFields, problem, problemOf } from './helpers/problem';
import { describeWithSharedServices } from './helpers/shared-services';
import { startTestApp, TestApp } from './helpers/test-app';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ISO_DATE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const USER_DTO_KEYS = ['createdAt', 'email', 'id', 'isActive', 'name', 'role', 'updatedAt'];

interface UserRow {
  email: string;
  name: string;
  role: Role;
  isActive: boolean;
}

/** A short marker put into names and emails, so a test can list only the users it made. */
function newTag(): string {
  return `t${randomBytes(4).toString('hex')}`;
}

/** A user straight through the service (no login: one argon2 hash each). */
function seedUser(
  t: TestApp,
  overrides: Partial<{ email: string; name: string; role: Role }> = {},
): Promise<UserResponse> {
  return t.app.get(UsersService).create({
    email: overrides.email ?? uniqueEmail('seed'),
    password: DEFAULT_PASSWORD,
    name: overrides.name ?? 'Seeded User',
    role: overrides.role ?? 'user',
  });
}

/** Users made one after the other, so their createdAt order is their order here. */
async function seedUsers(
  t: TestApp,
  specs: Partial<{ email: string; name: string; role: Role }>[],
): Promise<UserResponse[]> {
  const users: UserResponse[] = [];
  for (const spec of specs) users.push(await seedUser(t, spec));
  return users;
}

/** The stored row, read past the API, to show a refused request changed nothing. */
async function userRow(t: TestApp, id: string): Promise<UserRow | undefined> {
  const rows = await t.app
    .get(DataSource)
    .query<UserRow[]>(
      `SELECT email, name, role, is_active AS "isActive" FROM users WHERE id = $1`,
      [id],
    );
  return rows[0];
}

async function activeAdminIds(t: TestApp): Promise<string[]> {
  const rows = await t.app
    .get(DataSource)
    .query<{ id: string }[]>(`SELECT id FROM users WHERE role = 'admin' AND is_active ORDER BY id`);
  return rows.map((row) => row.id);
}

async function countByEmail(t: TestApp, email: string): Promise<number> {
  const [row] = await t.app
    .get(DataSource)
    .query<{ n: number }[]>(`SELECT count(*)::int AS n FROM users WHERE lower(email) = lower($1)`, [
      email,
    ]);
  return row.n;
}

function ids(users: { id: string }[]): string[] {
  return users.map((user) => user.id);
}

describe('Users', () => {
  let t: TestApp;
  let admin: Session;
  let member: Session;
  let guest: Session;

  beforeAll(async () => {
    t = await startTestApp();
    [admin, member, guest] = await Promise.all([
      createUser(t, 'admin'),
      createUser(t, 'user'),
      createUser(t, 'guest'),
    ]);
  });
  afterAll(() => t.close());

  const list = (query: string, session: Session = admin) =>
    request(t.http).get(`/v1/users${query}`).set(bearer(session.accessToken));

  describe('GET /v1/users', () => {
    it('is for admins: a user or a guest gets 403 FORBIDDEN, no token 401 UNAUTHORIZED', async () => {
      expect(problemOf(await list('', member))).toEqual(problem(403, 'FORBIDDEN'));
      expect(problemOf(await list('', guest))).toEqual(problem(403, 'FORBIDDEN'));
      expect(problemOf(await request(t.http).get('/v1/users'))).toEqual(
        problem(401, 'UNAUTHORIZED'),
      );
      expect((await list('')).status).toBe(200);
    });

    it('answers {data, meta} of user DTOs, marked as superseded by /v2/users', async () => {
      const res = await list('');
      expect(res.status).toBe(200);
      const total = await countRows(t, 'users');
      expect(res.body.meta).toEqual({
        page: 1,
        limit: 20,
        total,
        totalPages: Math.ceil(total / 20),
      });
      expect(res.body.data).toHaveLength(Math.min(total, 20));
      for (const user of res.body.data as UserResponse[]) {
        expect(Object.keys(user).sort()).toEqual(USER_DTO_KEYS);
        expect(user).toMatchObject({ id: expect.stringMatching(UUID), createdAt: ISO_DATE });
      }
      expect(res.headers.deprecation).toMatch(/^@\d+$/);
      expect(res.headers.link).toBe('</v2/users>; rel="successor-version"');
    });

    it('pages through the matches with page and limit', async () => {
      const tag = newTag();
      const seeded = await seedUsers(
        t,
        [1, 2, 3, 4, 5].map((n) => ({ name: `Pager ${n} ${tag}` })),
      );
      const pages = await Promise.all(
        [1, 2, 3, 4].map((page) => list(`?q=${tag}&limit=2&page=${page}`)),
      );
      expect(pages.map((res) => res.body.meta as object)).toEqual(
        [1, 2, 3, 4].map((page) => ({ page, limit: 2, total: 5, totalPages: 3 })),
      );
      expect(pages.map((res) => (res.body.data as unknown[]).length)).toEqual([2, 2, 1, 0]);
      const listed = pages.flatMap((res) => ids(res.body.data as UserResponse[]));
      expect(listed).toEqual(ids(seeded).reverse());
    });

    it('refuses limit=101, limit=0, page=0 and page=abc with 400 VALIDATION_FAILED', async () => {
      const cases: [string, string][] = [
        ['?limit=101', 'limit'],
        ['?limit=0', 'limit'],
        ['?page=0', 'page'],
        ['?page=abc', 'page'],
      ];
      for (const [query, field] of cases) {
        const res = await list(query);
        expect(problemOf(res)).toEqual(problem(400, 'VALIDATION_FAILED'));
        expect({ query, fields: invalidFields(res) }).toEqual({ query, fields: [field] });
      }
    });

    it('filters by role', async () => {
      const tag = newTag();
      const [firstGuest, , secondGuest] = await seedUsers(t, [
        { name: `Role ${tag}`, role: 'guest' },
        { name: `Role ${tag}`, role: 'user' },
        { name: `Role ${tag}`, role: 'guest' },
      ]);
      const guests = await list(`?q=${tag}&role=guest`);
      expect(ids(guests.body.data as UserResponse[]).sort()).toEqual(
        [firstGuest.id, secondGuest.id].sort(),
      );
      const everyGuest = await list('?role=guest&limit=100');
      const [{ n }] = await t.app
        .get(DataSource)
        .query<{ n: number }[]>(`SELECT count(*)::int AS n FROM users WHERE role = 'guest'`);
      expect(everyGuest.body.meta.total).toBe(n);
      expect(new Set((everyGuest.body.data as UserResponse[]).map((u) => u.role))).toEqual(
        new Set(['guest']),
      );
      const bad = await list('?role=superuser');
      expect(problemOf(bad)).toEqual(problem(400, 'VALIDATION_FAILED'));
      expect(invalidFields(bad)).toEqual(['role']);
    });

    it('searches email and name with q, case-insensitively', async () => {
      const tag = newTag();
      const [byName, byEmail] = await seedUsers(t, [
        { name: `Grace ${tag}-NamePart`, email: `grace-${tag}@example.com` },
        { name: `Hedy ${tag}`, email: `hedy-${tag}-mailpart@example.com` },
      ]);
      const nameHits = await list(`?q=${tag}-NAMEPART`);
      expect(ids(nameHits.body.data as UserResponse[])).toEqual([byName.id]);
      const emailHits = await list(`?q=${tag.toUpperCase()}-MailPart`);
      expect(ids(emailHits.body.data as UserResponse[])).toEqual([byEmail.id]);
    });

    it('treats % and _ in q as themselves, not as wildcards', async () => {
      const tag = newTag();
      const [percent, , underscore] = await seedUsers(t, [
        { name: `${tag} 50% off` },
        { name: `${tag} 50 pct off` },
        { name: `${tag} a_b` },
        { name: `${tag} axb` },
      ]);
      const percentHits = await list(`?q=${encodeURIComponent(`${tag} 50%`)}`);
      expect(ids(percentHits.body.data as UserResponse[])).toEqual([percent.id]);
      const underscoreHits = await list(`?q=${encodeURIComponent(`${tag} a_b`)}`);
      expect(ids(underscoreHits.body.data as UserResponse[])).toEqual([underscore.id]);
    });

    it('sorts by name, email or createdAt, ascending or descending', async () => {
      const tag = newTag();
      // Three orders that all differ: created first, second, third.
      const [first, second, third] = await seedUsers(t, [
        { name: `Charlie ${tag}`, email: `b${tag}@example.com` },
        { name: `Alpha ${tag}`, email: `a${tag}@example.com` },
        { name: `Bravo ${tag}`, email: `c${tag}@example.com` },
      ]);
      const order = async (sort: string) =>
        ids((await list(`?q=${tag}&sort=${sort}`)).body.data as UserResponse[]);
      expect(await order('name:asc')).toEqual(ids([second, third, first]));
      expect(await order('name:desc')).toEqual(ids([first, third, second]));
      expect(await order('email:desc')).toEqual(ids([third, first, second]));
      expect(await order('email:asc')).toEqual(ids([second, first, third]));
      expect(await order('createdAt:asc')).toEqual(ids([first, second, third]));
      expect(await order('createdAt:desc')).toEqual(ids([third, second, first]));
    });

    it('refuses a sort outside the whitelist or without a direction with 400', async () => {
      for (const sort of ['passwordHash:asc', 'name', 'name:up', 'password_hash:desc']) {
        const res = await list(`?sort=${sort}`);
        expect(problemOf(res)).toEqual(problem(400, 'VALIDATION_FAILED'));
        expect({ sort, fields: invalidFields(res) }).toEqual({ sort, fields: ['sort'] });
      }
    });

    it('refuses an unknown query parameter with 400', async () => {
      const res = await list('?debug=1');
      expect(problemOf(res)).toEqual(problem(400, 'VALIDATION_FAILED'));
      expect(invalidFields(res)).toEqual(['debug']);
    });
  });

  describe('GET /v2/users', () => {
    const listV2 = (query: string, session: Session = admin) =>
      request(t.http).get(`/v2/users${query}`).set(bearer(session.accessToken));

    it('walks every user exactly once, newest first, following nextCursor', async () => {
      const seeded = await seedUsers(
        t,
        Array.from({ length: 7 }, (_, i) => ({ name: `Cursor walker ${i}` })),
      );
      const walked: (UserResponse & { lastLoginAt: string | null })[] = [];
      const pageSizes: number[] = [];
      let cursor: string | null = '';
      while (cursor !== null) {
        const query: string = cursor === '' ? '?limit=3' : `?limit=3&cursor=${cursor}`;
        const res = await listV2(query);
        expect(res.status).toBe(200);
        walked.push(...res.body.data);
        pageSizes.push(res.body.data.length);
        cursor = res.body.nextCursor as string | null;
      }
      const total = await countRows(t, 'users');
      expect(walked).toHaveLength(total);
      expect(new Set(ids(walked)).size).toBe(total);
      expect(pageSizes.slice(0, -1).every((size) => size === 3)).toBe(true);
      // Newest first: the seeded users, made last, lead in reverse order of creation.
      expect(ids(walked.slice(0, 7))).toEqual(ids(seeded).reverse());
      const createdAts = walked.map((user) => user.createdAt);
      expect(createdAts).toEqual([...createdAts].sort().reverse());
    });

    it('represents a user as v1 does, plus lastLoginAt and links.self', async () => {
      const res = await listV2(`?limit=100`);
      const item = (res.body.data as (UserResponse & Record<string, unknown>)[]).find(
        (user) => user.id === admin.user.id,
      );
      expect(item).toEqual({
        ...admin.user,
        updatedAt: expect.stringMatching(ISO_DATE),
        lastLoginAt: expect.stringMatching(ISO_DATE),
        links: { self: `/v1/users/${admin.user.id}` },
      });
      expect(res.headers.deprecation).toBeUndefined();
      const self = await request(t.http)
        .get(`/v1/users/${admin.user.id}`)
        .set(bearer(admin.accessToken));
      expect(self.body.id).toBe(admin.user.id);
      const neverLoggedIn = await seedUser(t);
      const fresh = (await listV2('?limit=1')).body.data[0];
      expect(fresh).toMatchObject({ id: neverLoggedIn.id, lastLoginAt: null });
    });

    it('refuses a garbage or tampered cursor with 400 VALIDATION_FAILED on cursor', async () => {
      const first = await listV2('?limit=1');
      const [at] = Buffer.from(first.body.nextCursor as string, 'base64url')
        .toString()
        .split('|');
      const encode = (text: string) => Buffer.from(text).toString('base64url');
      const cursors = [
        'not a cursor!',
        encode('hello world'),
        encode(`${at}|' OR 1=1 --`),
        encode(`2026-13-45T99:99:99.000000Z|${randomUUID()}`),
        'x'.repeat(300),
      ];
      for (const cursor of cursors) {
        const res = await listV2(`?cursor=${encodeURIComponent(cursor)}`);
        expect(problemOf(res)).toEqual(problem(400, 'VALIDATION_FAILED'));
        expect({ cursor, fields: invalidFields(res) }).toEqual({ cursor, fields: ['cursor'] });
      }
    });

    it('refuses a well-formed cursor whose date does not exist with 400, not 500', async () => {
      const encode = (text: string) => Buffer.from(text).toString('base64url');
      const id = '00000000-0000-0000-0000-000000000000';
      const impossible = [
        '2024-02-30T00:00:00.000000Z',
        '2023-02-29T00:00:00.000000Z',
        '0000-01-01T00:00:00.000000Z',
        '2024-04-31T00:00:00.000000Z',
        '2024-01-01T24:00:00.000000Z',
        '2024-01-01T23:59:60.000000Z',
      ];
      for (const at of impossible) {
        const res = await listV2(`?cursor=${encode(`${at}|${id}`)}`);
        expect({ at, problem: problemOf(res) }).toEqual({
          at,
          problem: problem(400, 'VALIDATION_FAILED'),
        });
        expect({ at, fields: invalidFields(res) }).toEqual({ at, fields: ['cursor'] });
      }
      // A date that does exist pages on as any other cursor (none of the users is that old).
      const leapDay = await listV2(`?cursor=${encode(`2024-02-29T12:00:00.123456Z|${id}`)}`);
      expect(leapDay.status).toBe(200);
      expect(leapDay.body).toEqual({ data: [], nextCursor: null });
    });

    it('is for admins: a user or a guest gets 403 FORBIDDEN', async () => {
      expect(problemOf(await listV2('', member))).toEqual(problem(403, 'FORBIDDEN'));
      expect(problemOf(await listV2('', guest))).toEqual(problem(403, 'FORBIDDEN'));
      expect((await listV2('')).status).toBe(200);
    });
  });

  describe('POST /v1/users', () => {
    const create = (body: object, session: Session = admin) =>
      request(t.http).post('/v1/users').set(bearer(session.accessToken)).send(body);

    it('creates a user as an admin: 201 with the user DTO, password hashed', async () => {
      const email = uniqueEmail('created');
      const res = await create({
        email: `  ${email.toUpperCase()} `,
        password: 'a long enough password',
        name: 'Created By Admin',
        role: 'guest',
      });
      expect(res.status).toBe(201);
      expect(res.body).toEqual({
        id: expect.stringMatching(UUID),
        email,
        name: 'Created By Admin',
        role: 'guest',
        isActive: true,
        createdAt: expect.stringMatching(ISO_DATE),
        updatedAt: expect.stringMatching(ISO_DATE),
      });
      const [row] = await t.app
        .get(DataSource)
        .query<{ password_hash: string }[]>(`SELECT password_hash FROM users WHERE id = $1`, [
          res.body.id,
        ]);
      expect(row.password_hash).toMatch(/^\$argon2id\$/);
      expect((await login(t, email, 'a long enough password')).user.role).toBe('guest');
    });

    it('gives the role user when none is sent', async () => {
      const res = await create({ email: uniqueEmail(), password: DEFAULT_PASSWORD, name: 'Plain' });
      expect(res.status).toBe(201);
      expect(res.body.role).toBe('user');
    });

    it('refuses an email taken in another case with 409 EMAIL_TAKEN and writes nothing', async () => {
      const before = await countRows(t, 'users');
      const res = await create({
        email: member.email.toUpperCase(),
        password: DEFAULT_PASSWORD,
        name: 'Impostor',
      });
      expect(problemOf(res)).toEqual(problem(409, 'EMAIL_TAKEN'));
      expect(await countRows(t, 'users')).toBe(before);
    });

    it('refuses a user, a guest and no token (403, 403, 401) and writes nothing', async () => {
      const before = await countRows(t, 'users');
      const body = { email: uniqueEmail(), password: DEFAULT_PASSWORD, name: 'Sneaky' };
      expect(problemOf(await create(body, member))).toEqual(problem(403, 'FORBIDDEN'));
      expect(problemOf(await create({ ...body, role: 'admin' }, guest))).toEqual(
        problem(403, 'FORBIDDEN'),
      );
      expect(problemOf(await request(t.http).post('/v1/users').send(body))).toEqual(
        problem(401, 'UNAUTHORIZED'),
      );
      expect(await countRows(t, 'users')).toBe(before);
      expect(await countByEmail(t, body.email)).toBe(0);
    });

    it('refuses an invalid body with 400 VALIDATION_FAILED and writes nothing', async () => {
      const before = await countRows(t, 'users');
      const valid = { email: uniqueEmail(), password: DEFAULT_PASSWORD, name: 'Valid Name' };
      const cases: [object, string][] = [
        [{ password: DEFAULT_PASSWORD, name: 'No Email' }, 'email'],
        [{ ...valid, email: 'not-an-email' }, 'email'],
        [{ ...valid, password: 'short12' }, 'password'],
        [{ ...valid, password: 'x'.repeat(129) }, 'password'],
        [{ ...valid, name: '' }, 'name'],
        [{ ...valid, name: 'two\nlines' }, 'name'],
        [{ ...valid, role: 'superuser' }, 'role'],
        [{ ...valid, isActive: false }, 'isActive'],
        [{ ...valid, passwordHash: '$argon2id$forged' }, 'passwordHash'],
      ];
      for (const [body, field] of cases) {
        const res = await create(body);
        expect(problemOf(res)).toEqual(problem(400, 'VALIDATION_FAILED'));
        expect({ body, fields: invalidFields(res) }).toEqual({ body, fields: [field] });
      }
      expect(await countRows(t, 'users')).toBe(before);
    });
  });

  describe('GET /v1/users/:id', () => {
    const get = (id: string, session: Session) =>
      request(t.http).get(`/v1/users/${id}`).set(bearer(session.accessToken));

    it('shows users their own profile', async () => {
      const res = await get(member.user.id, member);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ id: member.user.id, email: member.email, role: 'user' });
      expect(Object.keys(res.body).sort()).toEqual(USER_DTO_KEYS);
    });

    it("answers another user's id to a non-admin exactly as an unknown id: 404", async () => {
      const other = await get(admin.user.id, member);
      const unknown = await get(randomUUID(), member);
      expect(problemOf(other)).toEqual(problem(404, 'NOT_FOUND'));
      expect(problemOf(unknown)).toEqual(problem(404, 'NOT_FOUND'));
      // Only the path (instance) and the request id may differ.
      const comparable = (body: Record<string, unknown>) => ({
        ...body,
        instance: 0,
        requestId: 0,
      });
      expect(comparable(other.body)).toEqual(comparable(unknown.body));
      expect(problemOf(await get(member.user.id, guest))).toEqual(problem(404, 'NOT_FOUND'));
    });

    it('shows any user to an admin', async () => {
      const res = await get(member.user.id, admin);
      expect(res.status).toBe(200);
      expect(res.body.id).toBe(member.user.id);
    });

    it('refuses an id that is not a UUID with 400 VALIDATION_FAILED', async () => {
      const res = await get('not-a-uuid', admin);
      expect(problemOf(res)).toEqual(problem(400, 'VALIDATION_FAILED'));
      expect(invalidFields(res)).toEqual(['id']);
    });

    it('answers an unknown UUID with 404 NOT_FOUND', async () => {
      expect(problemOf(await get(randomUUID(), admin))).toEqual(problem(404, 'NOT_FOUND'));
    });
  });

  describe('PATCH /v1/users/:id', () => {
    const patch = (id: string, body: object, session: Session = admin) =>
      request(t.http).patch(`/v1/users/${id}`).set(bearer(session.accessToken)).send(body);

    it('lets an admin change name, role and isActive', async () => {
      const target = await seedUser(t, { name: 'Before' });
      const res = await patch(target.id, { name: '  After  ', role: 'guest', isActive: false });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        id: target.id,
        email: target.email,
        name: 'After',
        role: 'guest',
        isActive: false,
      });
      expect(Date.parse(res.body.updatedAt)).toBeGreaterThan(Date.parse(target.updatedAt));
      expect(await userRow(t, target.id)).toEqual({
        email: target.email,
        name: 'After',
        role: 'guest',
        isActive: false,
      });
      const reactivated = await patch(target.id, { isActive: true });
      expect(reactivated.body).toEqual({
        ...res.body,
        isActive: true,
        updatedAt: expect.stringMatching(ISO_DATE),
      });
      const renamed = await patch(target.id, { name: 'Only The Name' });
      expect(renamed.body).toEqual({
        ...reactivated.body,
        name: 'Only The Name',
        updatedAt: expect.stringMatching(ISO_DATE),
      });
    });

    it('refuses a user or a guest with 403 and changes nothing', async () => {
      const target = await seedUser(t, { name: 'Untouched' });
      const before = await userRow(t, target.id);
      expect(problemOf(await patch(target.id, { name: 'Hacked' }, member))).toEqual(
        problem(403, 'FORBIDDEN'),
      );
      expect(problemOf(await patch(target.id, { isActive: false }, guest))).toEqual(
        problem(403, 'FORBIDDEN'),
      );
      expect(problemOf(await patch(member.user.id, { role: 'admin' }, member))).toEqual(
        problem(403, 'FORBIDDEN'),
      );
      expect(await userRow(t, target.id)).toEqual(before);
      expect((await userRow(t, member.user.id))?.role).toBe('user');
    });

    it('refuses email, password and unknown or invalid fields with 400 and changes nothing', async () => {
      const target = await seedUser(t, { name: 'Stable' });
      const before = await userRow(t, target.id);
      const cases: [object, string][] = [
        [{ email: uniqueEmail() }, 'email'],
        [{ password: 'a brand new password' }, 'password'],
        [{ name: 'Fine', passwordHash: 'x' }, 'passwordHash'],
        [{ role: 'root' }, 'role'],
        [{ isActive: 'no' }, 'isActive'],
        [{ name: '' }, 'name'],
      ];
      for (const [body, field] of cases) {
        const res = await patch(target.id, body);
        expect(problemOf(res)).toEqual(problem(400, 'VALIDATION_FAILED'));
        expect({ body, fields: invalidFields(res) }).toEqual({ body, fields: [field] });
      }
      expect(await userRow(t, target.id)).toEqual(before);
    });

    it('answers an unknown id with 404 and a malformed one with 400', async () => {
      expect(problemOf(await patch(randomUUID(), { name: 'Nobody' }))).toEqual(
        problem(404, 'NOT_FOUND'),
      );
      expect(problemOf(await patch('123', { name: 'Nobody' }))).toEqual(
        problem(400, 'VALIDATION_FAILED'),
      );
    });

    it('shuts a deactivated user out at once, token and login, until reactivated', async () => {
      const target = await createUser(t, 'user');
      const me = (session: Session) =>
        request(t.http).get('/v1/users/me').set(bearer(session.accessToken));
      expect((await me(target)).status).toBe(200);
      expect((await patch(target.user.id, { isActive: false })).status).toBe(200);
      expect(problemOf(await me(target))).toEqual(problem(401, 'INVALID_TOKEN'));
      const refused = await request(t.http)
        .post('/v1/auth/login')
        .send({ email: target.email, password: target.password });
      expect(problemOf(refused)).toEqual(problem(401, 'INVALID_CREDENTIALS'));
      expect((await patch(target.user.id, { isActive: true })).status).toBe(200);
      const again = await login(t, target.email);
      expect(again.user).toMatchObject({ id: target.user.id, isActive: true });
      expect((await me(again)).status).toBe(200);
      expect(problemOf(await me(target))).toEqual(problem(401, 'INVALID_TOKEN'));
    });
  });

  describe('DELETE /v1/users/:id', () => {
    const remove = (id: string, session: Session = admin) =>
      request(t.http).delete(`/v1/users/${id}`).set(bearer(session.accessToken));

    it('deletes a user (sessions and all) as an admin: 204, then 404', async () => {
      const target = await createUser(t, 'user');
      const res = await remove(target.user.id);
      expect(res.status).toBe(204);
      expect(res.text).toBe('');
      expect(await userRow(t, target.user.id)).toBeUndefined();
      const after = await request(t.http)
        .get(`/v1/users/${target.user.id}`)
        .set(bearer(admin.accessToken));
      expect(problemOf(after)).toEqual(problem(404, 'NOT_FOUND'));
      expect(problemOf(await remove(target.user.id))).toEqual(problem(404, 'NOT_FOUND'));
      const ownToken = await request(t.http).get('/v1/users/me').set(bearer(target.accessToken));
      expect(problemOf(ownToken)).toEqual(problem(401, 'INVALID_TOKEN'));
    });

    it('refuses a user or a guest with 403 and keeps the row', async () => {
      const target = await seedUser(t);
      expect(problemOf(await remove(target.id, member))).toEqual(problem(403, 'FORBIDDEN'));
      expect(problemOf(await remove(target.id, guest))).toEqual(problem(403, 'FORBIDDEN'));
      expect(problemOf(await remove(member.user.id, member))).toEqual(problem(403, 'FORBIDDEN'));
      expect(await userRow(t, target.id)).toBeDefined();
      expect(await userRow(t, member.user.id)).toBeDefined();
    });
  });

  describe('GET|PATCH /v1/users/me', () => {
    const patchMe = (body: object, session: Session) =>
      request(t.http).patch('/v1/users/me').set(bearer(session.accessToken)).send(body);

    it('shows and renames yourself', async () => {
      const self = await createUser(t, 'user', 'Old Name');
      const shown = await request(t.http).get('/v1/users/me').set(bearer(self.accessToken));
      expect(shown.body).toEqual(self.user);
      const renamed = await patchMe({ name: '  New Name ' }, self);
      expect(renamed.status).toBe(200);
      expect(renamed.body).toMatchObject({ id: self.user.id, name: 'New Name', role: 'user' });
      const again = await request(t.http).get('/v1/users/me').set(bearer(self.accessToken));
      expect(again.body.name).toBe('New Name');
      expect((await userRow(t, self.user.id))?.name).toBe('New Name');
    });

    it('lets a guest read but not rename themselves: 403', async () => {
      const self = await createUser(t, 'guest', 'Guest Name');
      const shown = await request(t.http).get('/v1/users/me').set(bearer(self.accessToken));
      expect(shown.status).toBe(200);
      expect(problemOf(await patchMe({ name: 'Renamed' }, self))).toEqual(
        problem(403, 'FORBIDDEN'),
      );
      expect((await userRow(t, self.user.id))?.name).toBe('Guest Name');
    });

    it('refuses role, email or isActive in the body with 400: no self-escalation', async () => {
      const self = await createUser(t, 'user', 'Modest');
      const before = await userRow(t, self.user.id);
      const cases: [object, string][] = [
        [{ role: 'admin' }, 'role'],
        [{ name: 'Modest', role: 'admin' }, 'role'],
        [{ email: uniqueEmail() }, 'email'],
        [{ isActive: true }, 'isActive'],
      ];
      for (const [body, field] of cases) {
        const res = await patchMe(body, self);
        expect(problemOf(res)).toEqual(problem(400, 'VALIDATION_FAILED'));
        expect({ body, fields: invalidFields(res) }).toEqual({
          body,
          fields: expect.arrayContaining([field]),
        });
      }
      expect(await userRow(t, self.user.id)).toEqual(before);
      expect(problemOf(await request(t.http).get('/v1/users/me'))).toEqual(
        problem(401, 'UNAUTHORIZED'),
      );
    });
  });

  describe('names are data', () => {
    const names = [
      `Robert'); DROP TABLE users;--`,
      `<script>alert("x")</script>`,
      `' OR '1'='1`,
      `Zoë \u{1F680} "quoted" \\back\\slash\\ %_ \u202Eevil`,
    ];

    it('stores SQL- and script-looking names verbatim and returns them byte for byte', async () => {
      for (const name of names) {
        const created = await request(t.http)
          .post('/v1/users')
          .set(bearer(admin.accessToken))
          .send({ email: uniqueEmail(), password: DEFAULT_PASSWORD, name });
        expect(created.status).toBe(201);
        const res = await request(t.http)
          .get(`/v1/users/${created.body.id}`)
          .set(bearer(admin.accessToken));
        expect(res.body.name).toBe(name);
        expect(res.text).toContain(`"name":${JSON.stringify(name)}`);
        expect((await userRow(t, created.body.id))?.name).toBe(name);
        const found = await list(`?q=${encodeURIComponent(name)}`);
        expect(ids(found.body.data as UserResponse[])).toContain(created.body.id);
      }
      expect(await countRows(t, 'users')).toBeGreaterThan(0);
    });
  });

  describeWithSharedServices('a session-ending change while Redis refuses the revocation', () => {
    /** The next SET on the shared Redis client (the revocation) fails as in an outage. */
    function failNextRevocation(): void {
      jest
        .spyOn(t.app.get<Redis>(REDIS), 'set')
        .mockRejectedValueOnce(new Error('Connection is closed.'));
    }
    const me = (session: Session) =>
      request(t.http).get('/v1/users/me').set(bearer(session.accessToken));
    const unavailable = expect.objectContaining({ status: 503, code: 'SERVICE_UNAVAILABLE' });

    afterEach(() => jest.restoreAllMocks());

    it('DELETE: 503 and nothing deleted, the token still valid; a retry deletes and ends it', async () => {
      const target = await createUser(t, 'user');
      const remove = () =>
        request(t.http).delete(`/v1/users/${target.user.id}`).set(bearer(admin.accessToken));

      failNextRevocation();
      expect(problemOf(await remove())).toEqual(unavailable);
      expect(await userRow(t, target.user.id)).toBeDefined();
      expect((await me(target)).status).toBe(200);

      expect((await remove()).status).toBe(204);
      expect(problemOf(await me(target))).toEqual(problem(401, 'INVALID_TOKEN'));
    });

    it('PATCH isActive=false: 503 and still active; a retry deactivates and ends the session', async () => {
      const target = await createUser(t, 'user');
      const deactivate = () =>
        request(t.http)
          .patch(`/v1/users/${target.user.id}`)
          .set(bearer(admin.accessToken))
          .send({ isActive: false });

      failNextRevocation();
      expect(problemOf(await deactivate())).toEqual(unavailable);
      expect(await userRow(t, target.user.id)).toMatchObject({ isActive: true });
      expect((await me(target)).status).toBe(200);

      expect((await deactivate()).status).toBe(200);
      expect(problemOf(await me(target))).toEqual(problem(401, 'INVALID_TOKEN'));
    });

    it('POST /v1/auth/password: 503 and the old password kept; a retry changes it and ends the session', async () => {
      const target = await createUser(t, 'user');
      const change = () =>
        request(t.http)
          .post('/v1/auth/password')
          .set(bearer(target.accessToken))
          .send({ currentPassword: DEFAULT_PASSWORD, newPassword: 'a-new-password-1234' });

      failNextRevocation();
      expect(problemOf(await change())).toEqual(unavailable);
      expect((await login(t, target.email)).user.id).toBe(target.user.id);
      expect((await me(target)).status).toBe(200);

      expect((await change()).status).toBe(204);
      expect(problemOf(await me(target))).toEqual(problem(401, 'INVALID_TOKEN'));
      expect((await login(t, target.email, 'a-new-password-1234')).user.id).toBe(target.user.id);
    });
  });
});

describe('Users: the last active admin', () => {
  let t: TestApp;
  let owner: Session;

  beforeAll(async () => {
    t = await startTestApp();
    owner = await createUser(t, 'admin');
  });
  afterAll(() => t.close());

  const patch = (id: string, body: object, session: Session = owner) =>
    request(t.http).patch(`/v1/users/${id}`).set(bearer(session.accessToken)).send(body);
  const remove = (id: string, session: Session = owner) =>
    request(t.http).delete(`/v1/users/${id}`).set(bearer(session.accessToken));

  it('cannot be demoted, deactivated or deleted: 409 LAST_ADMIN and nothing changes', async () => {
    expect(await activeAdminIds(t)).toEqual([owner.user.id]);
    expect(problemOf(await patch(owner.user.id, { role: 'user' }))).toEqual(
      problem(409, 'LAST_ADMIN'),
    );
    expect(problemOf(await patch(owner.user.id, { role: 'guest' }))).toEqual(
      problem(409, 'LAST_ADMIN'),
    );
    expect(problemOf(await patch(owner.user.id, { isActive: false }))).toEqual(
      problem(409, 'LAST_ADMIN'),
    );
    expect(problemOf(await patch(owner.user.id, { name: 'Renamed', isActive: false }))).toEqual(
      problem(409, 'LAST_ADMIN'),
    );
    expect(problemOf(await remove(owner.user.id))).toEqual(problem(409, 'LAST_ADMIN'));
    expect(await userRow(t, owner.user.id)).toMatchObject({
      name: owner.user.name,
      role: 'admin',
      isActive: true,
    });
    const me = await request(t.http).get('/v1/users/me').set(bearer(owner.accessToken));
    expect(me.status).toBe(200);
  });

  it('may be demoted while another active admin remains', async () => {
    const second = await seedUser(t, { role: 'admin' });
    const res = await patch(second.id, { role: 'user' });
    expect(res.status).toBe(200);
    expect(res.body.role).toBe('user');
    expect(await activeAdminIds(t)).toEqual([owner.user.id]);
  });

  it('does not count an inactive admin as the other admin', async () => {
    const spare = await seedUser(t, { role: 'admin' });
    expect((await patch(spare.id, { isActive: false })).status).toBe(200);
    expect(problemOf(await patch(owner.user.id, { role: 'user' }))).toEqual(
      problem(409, 'LAST_ADMIN'),
    );
    expect(problemOf(await remove(owner.user.id))).toEqual(problem(409, 'LAST_ADMIN'));
    expect(await activeAdminIds(t)).toEqual([owner.user.id]);
  });

  it('keeps exactly one admin when the only two demote each other at once', async () => {
    const partner = await createUser(t, 'admin');
    expect(await activeAdminIds(t)).toEqual([owner.user.id, partner.user.id].sort());
    const responses = await Promise.all([
      patch(partner.user.id, { role: 'user' }, owner),
      patch(owner.user.id, { role: 'user' }, partner),
    ]);
    const outcomes = responses
      .map((res) => ({ status: res.status, code: res.body.code as string | undefined }))
      .sort((a, b) => a.status - b.status);
    expect(outcomes).toEqual([
      { status: 200, code: undefined },
      { status: 409, code: 'LAST_ADMIN' },
    ]);
    expect(await activeAdminIds(t)).toHaveLength(1);
  });
});

describe('Users: FEATURE_V2_API=false', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ env: { FEATURE_V2_API: 'false' } });
  });
  afterAll(() => t.close());

  it('answers GET /v2/users with a plain 404 before authentication, as if it did not exist', async () => {
    const [admin, member] = await Promise.all([createUser(t, 'admin'), createUser(t, 'user')]);
    const asAdmin = await request(t.http).get('/v2/users').set(bearer(admin.accessToken));
    expect(problemOf(asAdmin)).toEqual(problem(404, 'NOT_FOUND'));
    expect(asAdmin.body.detail).toBe('Cannot GET /v2/users');
    const asMember = await request(t.http).get('/v2/users').set(bearer(member.accessToken));
    const anonymous = await request(t.http).get('/v2/users');
    const garbageToken = await request(t.http).get('/v2/users').set(bearer('not-a-token'));
    for (const res of [asMember, anonymous, garbageToken]) {
      expect(problemOf(res)).toEqual(problem(404, 'NOT_FOUND'));
      expect(res.body.detail).toBe(asAdmin.body.detail);
    }
    const v1 = await request(t.http).get('/v1/users').set(bearer(admin.accessToken));
    expect(v1.status).toBe(200);
  });
});

describe('Users: the bootstrap admin', () => {
  const email = `Root.${randomBytes(3).toString('hex')}@Example.COM`;
  const password = 'bootstrap admin password';
  const env = { ADMIN_EMAIL: email, ADMIN_PASSWORD: password };

  it('exists after a start with ADMIN_EMAIL and ADMIN_PASSWORD, and can log in as admin', async () => {
    const t = await startTestApp({ env });
    try {
      const session = await login(t, email.toLowerCase(), password);
      expect(session.user).toMatchObject({ email: email.toLowerCase(), role: 'admin' });
      expect(await countByEmail(t, email)).toBe(1);
      expect(await countRows(t, 'users')).toBe(1);
    } finally {
      await t.close();
    }
  });

  describeWithSharedServices('on a database shared by several instances', () => {
    it('is created once across a restart', async () => {
      const first = await startTestApp({ env });
      try {
        const created = await login(first, email, password);
        const restarted = await startTestApp({ env, databaseUrl: first.database.url });
        await restarted.close();
        expect(await countByEmail(first, email)).toBe(1);
        expect((await login(first, email, password)).user.id).toBe(created.user.id);
      } finally {
        await first.close();
      }
    });

    it('is created once when two instances start at the same time', async () => {
      const owner = await startTestApp();
      try {
        const databaseUrl = owner.database.url;
        const instances = await Promise.all([
          startTestApp({ env, databaseUrl }),
          startTestApp({ env, databaseUrl }),
        ]);
        await Promise.all(instances.map((instance) => instance.close()));
        expect(await countByEmail(owner, email)).toBe(1);
        expect((await login(owner, email, password)).user.role).toBe('admin');
      } finally {
        await owner.close();
      }
    });
  });
});
