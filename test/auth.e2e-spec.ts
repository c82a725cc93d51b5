import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { RevocationStore } from '../src/auth/tokens/revocation-store';
import { ServiceUnavailable } from '../src/common/errors/domain-errors';
import {
  accessClaims,
  bearer,
  countRows,
  createUser,
  DEFAULT_PASSWORD,
  forgeJwt,
  login,
  register,
  Session,
  uniqueEmail,
} from './helpers/identity';
import { identityRowCounts, sleep, withoutRequestSpecifics } from './helpers/auth-checks';
import { postJob } from './helpers/jobs';
import { invalidFields, problem, problemOf } from './helpers/problem';
import { startTestApp, TestApp } from './helpers/test-app';

const USER_DTO_KEYS = ['createdAt', 'email', 'id', 'isActive', 'name', 'role', 'updatedAt'];
const TEN_KB = 'p'.repeat(10 * 1024);

function query<T>(t: TestApp, sql: string, params: unknown[] = []): Promise<T[]> {
  return t.app.get(DataSource).query<T[]>(sql, params);
}

function me(t: TestApp, accessToken: string) {
  return request(t.http).get('/v1/auth/me').set(bearer(accessToken));
}

function refresh(t: TestApp, refreshToken: string) {
  return request(t.http).post('/v1/auth/refresh').send({ refreshToken });
}

function logout(t: TestApp, accessToken: string, refreshToken: string) {
  return request(t.http).post('/v1/auth/logout').set(bearer(accessToken)).send({ refreshToken });
}

function tokenEndpoint(t: TestApp, form: Record<string, string>) {
  return request(t.http).post('/v1/auth/token').type('form').send(form);
}

describe('Identity: /v1/auth', () => {
  let t: TestApp;
  let admin: Session;

  beforeAll(async () => {
    t = await startTestApp();
    admin = await createUser(t, 'admin');
  });
  afterAll(() => t.close());

  describe('POST /v1/auth/register', () => {
    const valid = () => ({ email: uniqueEmail('reg'), password: DEFAULT_PASSWORD, name: 'Reg' });

    it('creates a user and answers with the user DTO and a working token pair', async () => {
      const before = await identityRowCounts(t);
      const body = valid();
      const res = await request(t.http).post('/v1/auth/register').send(body);

      expect(res.status).toBe(201);
      expect(Object.keys(res.body as object).sort()).toEqual([
        'accessToken',
        'expiresIn',
        'refreshToken',
        'tokenType',
        'user',
      ]);
      expect(res.body).toMatchObject({
        tokenType: 'Bearer',
        expiresIn: t.config.jwt.accessTtlSeconds,
        accessToken: expect.any(String),
        refreshToken: expect.any(String),
      });
      expect(Object.keys(res.body.user as object).sort()).toEqual(USER_DTO_KEYS);
      expect(res.body.user).toMatchObject({
        email: body.email,
        name: 'Reg',
        role: 'user',
        isActive: true,
      });
      expect(res.text).not.toMatch(/argon2|hash/i);
      expect(await identityRowCounts(t)).toEqual({
        ...before,
        users: before.users + 1,
        refresh_tokens: before.refresh_tokens + 1,
      });
      const profile = await me(t, res.body.accessToken);
      expect(profile.status).toBe(200);
      expect(profile.body).toEqual(res.body.user);
    });

    it('trims and lower-cases the email before storing and returning it', async () => {
      const local = `Ada-${randomBytes(4).toString('hex')}`;
      const res = await request(t.http)
        .post('/v1/auth/register')
        .send({ email: `  ${local}@Example.COM `, password: DEFAULT_PASSWORD, name: 'Ada' });

      expect(res.status).toBe(201);
      const expected = `${local.toLowerCase()}@example.com`;
      expect(res.body.user.email).toBe(expected);
      const rows = await query<{ email: string }>(t, 'SELECT email FROM users WHERE id = $1', [
        res.body.user.id,
      ]);
      expect(rows).toEqual([{ email: expected }]);
    });

    it('refuses an email that is taken in another case or with spaces with 409 EMAIL_TAKEN', async () => {
      const taken = await register(t);
      const before = await identityRowCounts(t);

      const res = await request(t.http)
        .post('/v1/auth/register')
        .send({ email: `  ${taken.email.toUpperCase()}  `, password: DEFAULT_PASSWORD, name: 'X' });

      expect(problemOf(res)).toEqual(problem(409, 'EMAIL_TAKEN'));
      expect(await identityRowCounts(t)).toEqual(before);
    });

    it('accepts passwords of exactly 8 and 128 characters', async () => {
      for (const password of ['p'.repeat(8), 'p'.repeat(128)]) {
        const res = await request(t.http)
          .post('/v1/auth/register')
          .send({ ...valid(), password });
        expect(res.status).toBe(201);
      }
    });

    it.each([
      ['7 characters', 'p'.repeat(7)],
      ['129 characters', 'p'.repeat(129)],
      ['10 kB', TEN_KB],
    ])('refuses a password of %s with 400 VALIDATION_FAILED and writes nothing', async (_, pw) => {
      const before = await identityRowCounts(t);
      const res = await request(t.http)
        .post('/v1/auth/register')
        .send({ ...valid(), password: pw });

      expect(problemOf(res)).toEqual(problem(400, 'VALIDATION_FAILED'));
      expect(invalidFields(res)).toEqual(['password']);
      expect(await identityRowCounts(t)).toEqual(before);
    });

    it.each([
      [
        'missing fields',
        { email: undefined, password: undefined, name: undefined },
        ['email', 'name', 'password'],
      ],
      ['an extra role field (no self-promotion)', { role: 'admin' }, ['role']],
      ['an extra unknown field', { isActive: false }, ['isActive']],
      ['a number as name', { name: 42 }, ['name']],
      ['an object as email', { email: { $ne: null } }, ['email']],
      ['nested junk', { name: { first: 'x' }, profile: { deep: { er: 1 } } }, ['name', 'profile']],
      ['an invalid email', { email: 'not-an-email' }, ['email']],
      ['an empty name', { name: '   ' }, ['name']],
    ])(
      'refuses %s with 400 VALIDATION_FAILED listing the fields and writes nothing',
      async (_, overrides, fields) => {
        const before = await identityRowCounts(t);
        const res = await request(t.http)
          .post('/v1/auth/register')
          .send({ ...valid(), ...overrides });

        expect(problemOf(res)).toEqual(problem(400, 'VALIDATION_FAILED'));
        expect(invalidFields(res)).toEqual(fields);
        expect(await identityRowCounts(t)).toEqual(before);
      },
    );

    it('never creates an admin from a role field in the body', async () => {
      const email = uniqueEmail('escalate');
      const res = await request(t.http)
        .post('/v1/auth/register')
        .send({ email, password: DEFAULT_PASSWORD, name: 'Mallory', role: 'admin' });

      expect(res.status).toBe(400);
      expect(await query(t, 'SELECT id FROM users WHERE email = $1', [email])).toEqual([]);
    });

    it('answers a full problem+json body with the request id', async () => {
      const res = await request(t.http)
        .post('/v1/auth/register')
        .set('X-Request-Id', 'reg-problem-1')
        .send({});

      expect(res.body).toEqual({
        type: 'urn:keel:problem:validation-failed',
        title: 'Bad Request',
        status: 400,
        detail: expect.any(String),
        instance: '/v1/auth/register',
        code: 'VALIDATION_FAILED',
        requestId: 'reg-problem-1',
        errors: expect.arrayContaining([{ field: 'email', message: expect.any(String) }]),
      });
    });

    it('refuses malformed JSON with 400 MALFORMED_JSON and writes nothing', async () => {
      const before = await identityRowCounts(t);
      const res = await request(t.http)
        .post('/v1/auth/register')
        .set('Content-Type', 'application/json')
        .send('{"email": "a@example.com", "password":');

      expect(problemOf(res)).toEqual(problem(400, 'MALFORMED_JSON'));
      expect(await identityRowCounts(t)).toEqual(before);
    });

    it('refuses a text/plain body with 415 UNSUPPORTED_MEDIA_TYPE and writes nothing', async () => {
      const before = await identityRowCounts(t);
      const res = await request(t.http)
        .post('/v1/auth/register')
        .set('Content-Type', 'text/plain')
        .send(JSON.stringify(valid()));

      expect(problemOf(res)).toEqual(problem(415, 'UNSUPPORTED_MEDIA_TYPE'));
      expect(await identityRowCounts(t)).toEqual(before);
    });

    it.each([["Robert'); DROP TABLE users;--"], ['<script>alert(1)</script>'], ['" OR 1=1 --']])(
      'stores the name %j verbatim and returns it byte for byte as a JSON string',
      async (name) => {
        const res = await request(t.http)
          .post('/v1/auth/register')
          .send({ ...valid(), name });

        expect(res.status).toBe(201);
        expect(res.type).toBe('application/json');
        expect(res.text).toContain(`"name":${JSON.stringify(name)}`);
        expect(res.body.user.name).toBe(name);
        const rows = await query<{ name: string }>(t, 'SELECT name FROM users WHERE id = $1', [
          res.body.user.id,
        ]);
        expect(rows).toEqual([{ name }]);
        const [table] = await query<{ name: string }>(
          t,
          `SELECT to_regclass('public.users')::text AS name`,
        );
        expect(table.name).toBe('users');
        expect((await me(t, res.body.accessToken)).body.name).toBe(name);
      },
    );
  });

  describe('POST /v1/auth/login', () => {
    it('answers 200 with the user and a token pair, whatever the case of the email', async () => {
      const account = await register(t, { name: 'Login Me' });
      const res = await request(t.http)
        .post('/v1/auth/login')
        .send({ email: ` ${account.email.toUpperCase()} `, password: account.password });

      expect(res.status).toBe(200);
      expect(Object.keys(res.body as object).sort()).toEqual([
        'accessToken',
        'expiresIn',
        'refreshToken',
        'tokenType',
        'user',
      ]);
      expect(res.body).toMatchObject({
        tokenType: 'Bearer',
        expiresIn: t.config.jwt.accessTtlSeconds,
      });
      expect(Object.keys(res.body.user as object).sort()).toEqual(USER_DTO_KEYS);
      expect(res.body.user).toMatchObject({ id: account.user.id, email: account.email });
      expect((await me(t, res.body.accessToken)).status).toBe(200);
      expect((await refresh(t, res.body.refreshToken)).status).toBe(200);
    });

    it('marks every answer carrying tokens no-store', async () => {
      const account = await register(t);
      const logged = await request(t.http)
        .post('/v1/auth/login')
        .send({ email: account.email, password: account.password });
      const refreshed = await refresh(t, logged.body.refreshToken as string);
      const registered = await request(t.http)
        .post('/v1/auth/register')
        .send({ email: uniqueEmail('nostore'), password: DEFAULT_PASSWORD, name: 'No Store' });
      expect(
        [logged, refreshed, registered].map((res) => [res.status, res.headers['cache-control']]),
      ).toEqual([
        [200, 'no-store'],
        [200, 'no-store'],
        [201, 'no-store'],
      ]);
    });

    it('gives unknown email, wrong password and deactivated user the same 401 INVALID_CREDENTIALS', async () => {
      const account = await register(t);
      const deactivated = await register(t);
      const patch = await request(t.http)
        .patch(`/v1/users/${deactivated.user.id}`)
        .set(bearer(admin.accessToken))
        .send({ isActive: false });
      expect(patch.status).toBe(200);
      const before = await identityRowCounts(t);

      const attempts = [
        { email: uniqueEmail('nobody'), password: DEFAULT_PASSWORD },
        { email: account.email, password: `${DEFAULT_PASSWORD}!` },
        { email: deactivated.email, password: deactivated.password },
      ];
      const answers = [];
      for (const attempt of attempts) {
        answers.push(await request(t.http).post('/v1/auth/login').send(attempt));
      }

      for (const res of answers)
        expect(problemOf(res)).toEqual(problem(401, 'INVALID_CREDENTIALS'));
      const [first, ...others] = answers.map((res) => withoutRequestSpecifics(res.body));
      for (const body of others) expect(body).toEqual(first);
      expect(await identityRowCounts(t)).toEqual(before);
    });

    it('refuses a 10 kB password with 400 VALIDATION_FAILED', async () => {
      const account = await register(t);
      const before = await identityRowCounts(t);
      const res = await request(t.http)
        .post('/v1/auth/login')
        .send({ email: account.email, password: TEN_KB });

      expect(problemOf(res)).toEqual(problem(400, 'VALIDATION_FAILED'));
      expect(invalidFields(res)).toEqual(['password']);
      expect(await identityRowCounts(t)).toEqual(before);
    });
  });

  describe('POST /v1/auth/token (OAuth2)', () => {
    it('grants tokens for grant_type=password, not to be cached, and the access token works', async () => {
      const account = await register(t);
      const res = await tokenEndpoint(t, {
        grant_type: 'password',
        username: account.email,
        password: account.password,
      });

      expect(res.status).toBe(200);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.body).toEqual({
        access_token: expect.any(String),
        token_type: 'bearer',
        expires_in: t.config.jwt.accessTtlSeconds,
        refresh_token: expect.any(String),
      });
      const profile = await me(t, res.body.access_token);
      expect(profile.status).toBe(200);
      expect(profile.body.id).toBe(account.user.id);
    });

    it('answers a wrong password with 400 invalid_grant and issues nothing', async () => {
      const account = await register(t);
      const before = await identityRowCounts(t);
      const res = await tokenEndpoint(t, {
        grant_type: 'password',
        username: account.email,
        password: 'wrong password!',
      });

      expect(res.status).toBe(400);
      expect(res.type).toBe('application/json');
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.body).toEqual({ error: 'invalid_grant', error_description: expect.any(String) });
      expect(await identityRowCounts(t)).toEqual(before);
    });

    it.each([
      ['without grant_type', { username: 'a@example.com', password: DEFAULT_PASSWORD }],
      ['without username', { grant_type: 'password', password: DEFAULT_PASSWORD }],
      ['without password', { grant_type: 'password', username: 'a@example.com' }],
      ['refresh_token grant without refresh_token', { grant_type: 'refresh_token' }],
      ['with an unknown field', { grant_type: 'password', username: 'a@b.co', is_admin: '1' }],
      ['with a 10 kB password', { grant_type: 'password', username: 'a@b.co', password: TEN_KB }],
    ])('answers a request %s with 400 invalid_request', async (_, form) => {
      const before = await identityRowCounts(t);
      const res = await tokenEndpoint(t, form);

      expect(res.status).toBe(400);
      expect(res.body).toEqual({ error: 'invalid_request', error_description: expect.any(String) });
      expect(await identityRowCounts(t)).toEqual(before);
    });

    it('answers grant_type=client_credentials with 400 unsupported_grant_type', async () => {
      const res = await tokenEndpoint(t, {
        grant_type: 'client_credentials',
        client_id: 'x',
        client_secret: 'y',
      });

      expect(res.status).toBe(400);
      expect(res.body).toEqual({
        error: 'unsupported_grant_type',
        error_description: expect.any(String),
      });
    });

    it('refuses a JSON body with a 415 UNSUPPORTED_MEDIA_TYPE problem', async () => {
      const account = await register(t);
      const before = await identityRowCounts(t);
      const res = await request(t.http)
        .post('/v1/auth/token')
        .send({ grant_type: 'password', username: account.email, password: account.password });

      expect(problemOf(res)).toEqual(problem(415, 'UNSUPPORTED_MEDIA_TYPE'));
      expect(await identityRowCounts(t)).toEqual(before);
    });

    it('rotates with grant_type=refresh_token', async () => {
      const account = await register(t);
      const res = await tokenEndpoint(t, {
        grant_type: 'refresh_token',
        refresh_token: account.refreshToken,
      });

      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        access_token: expect.any(String),
        token_type: 'bearer',
        expires_in: t.config.jwt.accessTtlSeconds,
        refresh_token: expect.any(String),
      });
      expect(res.body.refresh_token).not.toBe(account.refreshToken);
      expect((await me(t, res.body.access_token)).status).toBe(200);
      expect((await refresh(t, res.body.refresh_token)).status).toBe(200);
    });

    it('answers a rotated refresh token with 400 invalid_grant and revokes its family', async () => {
      const account = await register(t);
      const rotated = await tokenEndpoint(t, {
        grant_type: 'refresh_token',
        refresh_token: account.refreshToken,
      });
      expect(rotated.status).toBe(200);

      const replay = await tokenEndpoint(t, {
        grant_type: 'refresh_token',
        refresh_token: account.refreshToken,
      });
      expect(replay.status).toBe(400);
      expect(replay.body).toEqual({
        error: 'invalid_grant',
        error_description: expect.any(String),
      });

      const newest = await tokenEndpoint(t, {
        grant_type: 'refresh_token',
        refresh_token: rotated.body.refresh_token,
      });
      expect(newest.status).toBe(400);
      expect(newest.body.error).toBe('invalid_grant');
      expect(problemOf(await refresh(t, rotated.body.refresh_token))).toEqual(
        problem(401, 'INVALID_TOKEN'),
      );
    });
  });

  describe('POST /v1/auth/refresh', () => {
    it('returns a new pair, and the old refresh token cannot be used again', async () => {
      const account = await register(t);
      const before = await identityRowCounts(t);
      const res = await refresh(t, account.refreshToken);

      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        accessToken: expect.any(String),
        refreshToken: expect.any(String),
        tokenType: 'Bearer',
        expiresIn: t.config.jwt.accessTtlSeconds,
      });
      expect(res.body.refreshToken).not.toBe(account.refreshToken);
      expect(await identityRowCounts(t)).toEqual({
        ...before,
        refresh_tokens: before.refresh_tokens + 1,
      });
      expect((await me(t, res.body.accessToken)).status).toBe(200);
      expect((await refresh(t, account.refreshToken)).status).toBe(401);
    });

    it('rejects a reused refresh token with 401 TOKEN_REUSED and revokes its family', async () => {
      const account = await register(t);
      const second = await refresh(t, account.refreshToken);
      const third = await refresh(t, second.body.refreshToken);
      expect(third.status).toBe(200);

      const replay = await refresh(t, account.refreshToken);
      expect(problemOf(replay)).toEqual(problem(401, 'TOKEN_REUSED'));
      expect(problemOf(await refresh(t, third.body.refreshToken))).toEqual(
        problem(401, 'INVALID_TOKEN'),
      );
      const live = await query<{ n: number }>(
        t,
        'SELECT count(*)::int AS n FROM refresh_tokens WHERE user_id = $1 AND revoked_at IS NULL',
        [account.user.id],
      );
      expect(live).toEqual([{ n: 0 }]);
    });

    it("ends the reused family's access tokens too, not another login's", async () => {
      const account = await register(t);
      const otherLogin = await login(t, account.email);
      // The thief rotates the stolen refresh token first; the victim's later use is the replay.
      const stolen = await refresh(t, account.refreshToken);
      expect(stolen.status).toBe(200);
      expect((await me(t, stolen.body.accessToken)).status).toBe(200);

      expect(problemOf(await refresh(t, account.refreshToken))).toEqual(
        problem(401, 'TOKEN_REUSED'),
      );
      for (const token of [stolen.body.accessToken as string, account.accessToken]) {
        expect(problemOf(await me(t, token))).toEqual(problem(401, 'INVALID_TOKEN'));
      }
      expect((await me(t, otherLogin.accessToken)).status).toBe(200);
    });

    it('lets only one of two concurrent refreshes of the same token succeed', async () => {
      const account = await register(t);
      const answers = await Promise.all([
        refresh(t, account.refreshToken),
        refresh(t, account.refreshToken),
      ]);

      expect(answers.map((res) => res.status).sort()).toEqual([200, 401]);
    });

    it('leaves another login of the same user untouched by a reuse', async () => {
      const account = await register(t);
      const otherLogin = await login(t, account.email);
      await refresh(t, account.refreshToken);
      expect((await refresh(t, account.refreshToken)).body.code).toBe('TOKEN_REUSED');

      const res = await refresh(t, otherLogin.refreshToken);
      expect(res.status).toBe(200);
      expect((await refresh(t, res.body.refreshToken)).status).toBe(200);
    });

    it.each([
      ['garbage', 'not-a-token'],
      ['well-formed but unknown', `rt_${randomBytes(32).toString('base64url')}`],
      ['an access token', 'eyJhbGciOiJIUzI1NiJ9.e30.c2ln'],
    ])('rejects a %s refresh token with 401 INVALID_TOKEN', async (_, token) => {
      const before = await identityRowCounts(t);
      expect(problemOf(await refresh(t, token))).toEqual(problem(401, 'INVALID_TOKEN'));
      expect(await identityRowCounts(t)).toEqual(before);
    });

    it('refuses a body without refreshToken with 400 VALIDATION_FAILED', async () => {
      const res = await request(t.http).post('/v1/auth/refresh').send({ token: 'x' });

      expect(problemOf(res)).toEqual(problem(400, 'VALIDATION_FAILED'));
      expect(invalidFields(res)).toEqual(['refreshToken', 'token']);
    });

    it('stores refresh tokens hashed, never in plain', async () => {
      const account = await register(t);
      const rotated = await refresh(t, account.refreshToken);
      const raw = [account.refreshToken, rotated.body.refreshToken as string];

      const rows = await query<{ row: string; token_hash: string }>(
        t,
        `SELECT row_to_json(r)::text AS row, r.token_hash FROM refresh_tokens r WHERE user_id = $1`,
        [account.user.id],
      );
      expect(rows).toHaveLength(2);
      for (const row of rows) {
        expect(row.token_hash).toMatch(/^[0-9a-f]{64}$/);
        for (const token of raw) {
          expect(row.row).not.toContain(token);
          expect(row.row).not.toContain(token.slice(3));
        }
      }
      const [all] = await query<{ dump: string }>(
        t,
        `SELECT coalesce(string_agg(row_to_json(r)::text, ','), '') AS dump FROM refresh_tokens r`,
      );
      for (const token of raw) expect(all.dump).not.toContain(token.slice(3));
    });
  });

  describe('POST /v1/auth/logout', () => {
    it('answers 204 and ends the access token and the refresh token at once', async () => {
      const account = await register(t);
      const res = await request(t.http)
        .post('/v1/auth/logout')
        .set(bearer(account.accessToken))
        .send({ refreshToken: account.refreshToken });

      expect(res.status).toBe(204);
      expect(problemOf(await me(t, account.accessToken))).toEqual(problem(401, 'INVALID_TOKEN'));
      expect(problemOf(await refresh(t, account.refreshToken))).toEqual(
        problem(401, 'INVALID_TOKEN'),
      );
    });

    it('ends only this login: another session of the user keeps working', async () => {
      const account = await register(t);
      const other = await login(t, account.email);
      const res = await request(t.http)
        .post('/v1/auth/logout')
        .set(bearer(account.accessToken))
        .send({ refreshToken: account.refreshToken });
      expect(res.status).toBe(204);

      expect((await me(t, other.accessToken)).status).toBe(200);
      expect((await refresh(t, other.refreshToken)).status).toBe(200);
    });

    it('ends the access tokens issued earlier in the same login too', async () => {
      const account = await register(t);
      const rotated = await refresh(t, account.refreshToken);
      expect(rotated.status).toBe(200);
      expect((await me(t, account.accessToken)).status).toBe(200);

      const res = await logout(t, rotated.body.accessToken, rotated.body.refreshToken);

      expect(res.status).toBe(204);
      for (const token of [account.accessToken, rotated.body.accessToken as string]) {
        expect(problemOf(await me(t, token))).toEqual(problem(401, 'INVALID_TOKEN'));
      }
      const job = await postJob(t, account.accessToken, {
        type: 'data.process',
        payload: { items: [1] },
      });
      expect(problemOf(job)).toEqual(problem(401, 'INVALID_TOKEN'));
      expect(problemOf(await refresh(t, rotated.body.refreshToken))).toEqual(
        problem(401, 'INVALID_TOKEN'),
      );
    });

    it.each([
      ['a typo', () => 'typo'],
      ['a well-formed unknown token', () => `rt_${randomBytes(32).toString('base64url')}`],
    ])('ends the login of the access token when the refresh token sent is %s', async (_, sent) => {
      const account = await register(t);
      const res = await logout(t, account.accessToken, sent());

      expect(res.status).toBe(204);
      expect(problemOf(await me(t, account.accessToken))).toEqual(problem(401, 'INVALID_TOKEN'));
      expect(problemOf(await refresh(t, account.refreshToken))).toEqual(
        problem(401, 'INVALID_TOKEN'),
      );
    });

    it("does not revoke another user's refresh token, and still ends the caller's login", async () => {
      const mallory = await register(t);
      const victim = await register(t);
      const res = await logout(t, mallory.accessToken, victim.refreshToken);
      expect(res.status).toBe(204);

      expect((await refresh(t, victim.refreshToken)).status).toBe(200);
      expect((await me(t, victim.accessToken)).status).toBe(200);
      expect(problemOf(await refresh(t, mallory.refreshToken))).toEqual(
        problem(401, 'INVALID_TOKEN'),
      );
    });

    it("ends the login of the refresh token sent too, when it is another of the user's", async () => {
      const account = await register(t);
      const other = await login(t, account.email);
      const bystander = await login(t, account.email);
      const res = await logout(t, account.accessToken, other.refreshToken);
      expect(res.status).toBe(204);

      for (const session of [account, other]) {
        expect(problemOf(await me(t, session.accessToken))).toEqual(problem(401, 'INVALID_TOKEN'));
        expect(problemOf(await refresh(t, session.refreshToken))).toEqual(
          problem(401, 'INVALID_TOKEN'),
        );
      }
      expect((await me(t, bystander.accessToken)).status).toBe(200);
      expect((await refresh(t, bystander.refreshToken)).status).toBe(200);
    });

    it('answers 503 and ends nothing when the revocation cannot be stored, so a retry can', async () => {
      const account = await register(t);
      // Redis refusing writes, as RedisRevocationStore reports it.
      const revocations = t.app.get(RevocationStore);
      const refused = (['revokeToken', 'revokeFamily'] as const).map((method) =>
        jest
          .spyOn(revocations, method)
          .mockRejectedValue(new ServiceUnavailable('Sessions cannot be revoked right now.')),
      );
      try {
        const res = await logout(t, account.accessToken, account.refreshToken);
        expect(problemOf(res)).toEqual(problem(503, 'SERVICE_UNAVAILABLE'));
      } finally {
        for (const spy of refused) spy.mockRestore();
      }
      const [live] = await query<{ n: number }>(
        t,
        'SELECT count(*)::int AS n FROM refresh_tokens WHERE user_id = $1 AND revoked_at IS NULL',
        [account.user.id],
      );
      expect(live).toEqual({ n: 1 });

      expect((await logout(t, account.accessToken, account.refreshToken)).status).toBe(204);
      expect(problemOf(await me(t, account.accessToken))).toEqual(problem(401, 'INVALID_TOKEN'));
      expect(problemOf(await refresh(t, account.refreshToken))).toEqual(
        problem(401, 'INVALID_TOKEN'),
      );
    });

    it('refuses a logout without a bearer token with 401 UNAUTHORIZED and revokes nothing', async () => {
      const account = await register(t);
      const res = await request(t.http)
        .post('/v1/auth/logout')
        .send({ refreshToken: account.refreshToken });

      expect(problemOf(res)).toEqual(problem(401, 'UNAUTHORIZED'));
      expect((await refresh(t, account.refreshToken)).status).toBe(200);
    });
  });

  describe('POST /v1/auth/password', () => {
    it('refuses a wrong current password with 400 INVALID_CURRENT_PASSWORD and keeps the old one', async () => {
      const account = await register(t);
      const res = await request(t.http)
        .post('/v1/auth/password')
        .set(bearer(account.accessToken))
        .send({ currentPassword: 'not the password', newPassword: 'a brand new password' });

      expect(problemOf(res)).toEqual(problem(400, 'INVALID_CURRENT_PASSWORD'));
      const old = await request(t.http)
        .post('/v1/auth/login')
        .send({ email: account.email, password: account.password });
      expect(old.status).toBe(200);
      expect((await me(t, account.accessToken)).status).toBe(200);
      expect((await refresh(t, account.refreshToken)).status).toBe(200);
    });

    it('refuses a new password of 7 characters with 400 VALIDATION_FAILED', async () => {
      const account = await register(t);
      const res = await request(t.http)
        .post('/v1/auth/password')
        .set(bearer(account.accessToken))
        .send({ currentPassword: account.password, newPassword: 'p'.repeat(7) });

      expect(problemOf(res)).toEqual(problem(400, 'VALIDATION_FAILED'));
      expect(invalidFields(res)).toEqual(['newPassword']);
      expect((await me(t, account.accessToken)).status).toBe(200);
    });

    it('changes the password and ends every session of the user', async () => {
      const account = await register(t);
      const other = await login(t, account.email);
      const newPassword = 'a brand new password';
      const res = await request(t.http)
        .post('/v1/auth/password')
        .set(bearer(account.accessToken))
        .send({ currentPassword: account.password, newPassword });

      expect(res.status).toBe(204);
      expect(problemOf(await me(t, account.accessToken))).toEqual(problem(401, 'INVALID_TOKEN'));
      expect(problemOf(await me(t, other.accessToken))).toEqual(problem(401, 'INVALID_TOKEN'));
      expect((await refresh(t, account.refreshToken)).status).toBe(401);
      expect((await refresh(t, other.refreshToken)).status).toBe(401);
      const old = await request(t.http)
        .post('/v1/auth/login')
        .send({ email: account.email, password: account.password });
      expect(problemOf(old)).toEqual(problem(401, 'INVALID_CREDENTIALS'));

      const fresh = await login(t, account.email, newPassword);
      expect((await me(t, fresh.accessToken)).status).toBe(200);
      expect((await refresh(t, fresh.refreshToken)).status).toBe(200);
    });

    it('ends a session created before the change even if its token escaped the revocation', async () => {
      // What a refresh rotation committing while the password changed would leave behind.
      const account = await register(t);
      await request(t.http)
        .post('/v1/auth/password')
        .set(bearer(account.accessToken))
        .send({ currentPassword: account.password, newPassword: 'another new password' })
        .expect(204);
      await query(t, 'UPDATE refresh_tokens SET revoked_at = NULL WHERE user_id = $1', [
        account.user.id,
      ]);

      expect(problemOf(await refresh(t, account.refreshToken))).toEqual(
        problem(401, 'INVALID_TOKEN'),
      );
    });
  });

  describe('GET /v1/auth/me and access tokens', () => {
    let account: Session;

    beforeAll(async () => {
      account = await register(t, { name: 'Me Myself' });
    });

    it('answers the user DTO of the token', async () => {
      const res = await me(t, account.accessToken);

      expect(res.status).toBe(200);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(Object.keys(res.body as object).sort()).toEqual(USER_DTO_KEYS);
      expect(res.body).toMatchObject({
        id: account.user.id,
        email: account.email,
        name: 'Me Myself',
        role: 'user',
        isActive: true,
      });
    });

    it('reads the token only from "Bearer <token>": one space, nothing after it', async () => {
      const token = forgeJwt(accessClaims(t, account.user), { secret: t.config.jwt.secret });
      expect(
        (await request(t.http).get('/v1/auth/me').set('Authorization', `bearer ${token}`)).status,
      ).toBe(200);
      for (const header of [
        `Bearer ${token} extra`,
        `Bearer  ${token}`,
        `Bearer\t${token}`,
        `${token}`,
      ]) {
        const res = await request(t.http).get('/v1/auth/me').set('Authorization', header);
        expect({ header, problem: problemOf(res) }).toEqual({
          header,
          problem: problem(401, 'UNAUTHORIZED'),
        });
      }
    });

    it('accepts a token with every claim, signed HS256 with the secret (the forgeries below differ only in one thing)', async () => {
      const token = forgeJwt(accessClaims(t, account.user), { secret: t.config.jwt.secret });
      const res = await me(t, token);

      expect(res.status).toBe(200);
      expect(res.body.id).toBe(account.user.id);
    });

    it.each([
      ['no Authorization header', {}],
      ['a Basic Authorization header', { Authorization: 'Basic abc' }],
      ['an empty bearer', { Authorization: 'Bearer ' }],
    ])('answers %s with 401 UNAUTHORIZED', async (_, headers) => {
      const res = await request(t.http).get('/v1/auth/me').set(headers);

      expect(problemOf(res)).toEqual(problem(401, 'UNAUTHORIZED'));
      expect(res.headers['www-authenticate']).toBe('Bearer');
    });

    type Forge = (t: TestApp, user: Session['user']) => string;
    const withClaims =
      (change: (claims: Record<string, unknown>) => void): Forge =>
      (app, user) => {
        const claims = accessClaims(app, user);
        change(claims);
        return forgeJwt(claims, { secret: app.config.jwt.secret });
      };
    const secret = (app: TestApp) => app.config.jwt.secret;
    const forgeries: [string, string, Forge][] = [
      ['a token that is not a JWT', 'INVALID_TOKEN', () => 'not-a-jwt'],
      [
        'alg "none"',
        'INVALID_TOKEN',
        (app, user) => forgeJwt(accessClaims(app, user), { secret: '', algorithm: 'none' }),
      ],
      [
        'HS512 signed with the real secret',
        'INVALID_TOKEN',
        (app, user) =>
          forgeJwt(accessClaims(app, user), { secret: secret(app), algorithm: 'HS512' }),
      ],
      [
        'HS256 signed with another secret',
        'INVALID_TOKEN',
        (app, user) =>
          forgeJwt(accessClaims(app, user), { secret: randomBytes(32).toString('hex') }),
      ],
      ['no exp', 'INVALID_TOKEN', withClaims((c) => delete c.exp)],
      [
        'exp in the past',
        'TOKEN_EXPIRED',
        withClaims((c) => {
          c.iat = Math.floor(Date.now() / 1000) - 120;
          c.exp = Math.floor(Date.now() / 1000) - 60;
        }),
      ],
      ['no sub', 'INVALID_TOKEN', withClaims((c) => delete c.sub)],
      ['no jti', 'INVALID_TOKEN', withClaims((c) => delete c.jti)],
      ['no iat', 'INVALID_TOKEN', withClaims((c) => delete c.iat)],
      ['no role', 'INVALID_TOKEN', withClaims((c) => delete c.role)],
      ['no iss', 'INVALID_TOKEN', withClaims((c) => delete c.iss)],
      ['no aud', 'INVALID_TOKEN', withClaims((c) => delete c.aud)],
      ['a wrong iss', 'INVALID_TOKEN', withClaims((c) => (c.iss = 'https://evil.example.com'))],
      ['a wrong aud', 'INVALID_TOKEN', withClaims((c) => (c.aud = 'someone-else'))],
      ['an unknown role', 'INVALID_TOKEN', withClaims((c) => (c.role = 'superuser'))],
      ['a numeric sub', 'INVALID_TOKEN', withClaims((c) => (c.sub = 42))],
    ];

    it.each(forgeries)('answers a bearer with %s with 401 %s', async (_, code, forge) => {
      const res = await me(t, forge(t, account.user));

      expect(problemOf(res)).toEqual(problem(401, code));
    });

    it('refuses the tokens of a deleted user with 401 INVALID_TOKEN', async () => {
      const doomed = await register(t);
      const res = await request(t.http)
        .delete(`/v1/users/${doomed.user.id}`)
        .set(bearer(admin.accessToken));
      expect(res.status).toBe(204);

      expect(problemOf(await me(t, doomed.accessToken))).toEqual(problem(401, 'INVALID_TOKEN'));
      expect(problemOf(await refresh(t, doomed.refreshToken))).toEqual(
        problem(401, 'INVALID_TOKEN'),
      );
    });

    it('refuses the tokens of a deactivated user with 401 INVALID_TOKEN', async () => {
      const benched = await register(t);
      const res = await request(t.http)
        .patch(`/v1/users/${benched.user.id}`)
        .set(bearer(admin.accessToken))
        .send({ isActive: false });
      expect(res.status).toBe(200);

      expect(problemOf(await me(t, benched.accessToken))).toEqual(problem(401, 'INVALID_TOKEN'));
      expect(problemOf(await refresh(t, benched.refreshToken))).toEqual(
        problem(401, 'INVALID_TOKEN'),
      );
    });

    it('refuses a token issued before an admin changed the role, with 401 INVALID_TOKEN', async () => {
      const demoted = await register(t);
      const res = await request(t.http)
        .patch(`/v1/users/${demoted.user.id}`)
        .set(bearer(admin.accessToken))
        .send({ role: 'guest' });
      expect(res.status).toBe(200);

      expect(problemOf(await me(t, demoted.accessToken))).toEqual(problem(401, 'INVALID_TOKEN'));
      const again = await login(t, demoted.email);
      const profile = await me(t, again.accessToken);
      expect(profile.status).toBe(200);
      expect(profile.body.role).toBe('guest');
    });
  });

  describe('roles', () => {
    it('lets a guest read their profile but not change it (403 FORBIDDEN, nothing written)', async () => {
      const guest = await createUser(t, 'guest', 'Guest Name');

      const read = await request(t.http).get('/v1/users/me').set(bearer(guest.accessToken));
      expect(read.status).toBe(200);
      expect(read.body).toMatchObject({ id: guest.user.id, role: 'guest', name: 'Guest Name' });

      const write = await request(t.http)
        .patch('/v1/users/me')
        .set(bearer(guest.accessToken))
        .send({ name: 'Changed' });
      expect(problemOf(write)).toEqual(problem(403, 'FORBIDDEN'));
      const rows = await query<{ name: string }>(t, 'SELECT name FROM users WHERE id = $1', [
        guest.user.id,
      ]);
      expect(rows).toEqual([{ name: 'Guest Name' }]);
    });

    it('lets a user change their own name (the guest refusal above is about the role)', async () => {
      const user = await register(t, { name: 'Before' });
      const res = await request(t.http)
        .patch('/v1/users/me')
        .set(bearer(user.accessToken))
        .send({ name: 'After' });

      expect(res.status).toBe(200);
      expect(res.body.name).toBe('After');
    });

    it('refuses an admin-only route to a user with 403 FORBIDDEN', async () => {
      const user = await register(t);
      const res = await request(t.http).get('/v1/users').set(bearer(user.accessToken));

      expect(problemOf(res)).toEqual(problem(403, 'FORBIDDEN'));
    });
  });
});

describe('Identity: /v1/auth with a refresh token lifetime of one second', () => {
  let short: TestApp;

  beforeAll(async () => {
    short = await startTestApp({ env: { JWT_REFRESH_TTL: '1' } });
  });
  afterAll(() => short.close());

  it('rejects an expired refresh token with 401 TOKEN_EXPIRED (invalid_grant on /token)', async () => {
    const first = await register(short);
    const second = await login(short, first.email);
    await sleep(1200);

    expect(problemOf(await refresh(short, first.refreshToken))).toEqual(
      problem(401, 'TOKEN_EXPIRED'),
    );
    const grant = await tokenEndpoint(short, {
      grant_type: 'refresh_token',
      refresh_token: second.refreshToken,
    });
    expect(grant.status).toBe(400);
    expect(grant.body.error).toBe('invalid_grant');
  });
});

describe('Identity: /v1/auth with registration disabled', () => {
  let closed: TestApp;

  beforeAll(async () => {
    closed = await startTestApp({ env: { FEATURE_REGISTRATION: 'false' } });
  });
  afterAll(() => closed.close());

  it.each([
    ['a valid body', { email: 'x@example.com', password: DEFAULT_PASSWORD, name: 'X' }],
    ['an invalid body', { role: 'admin' }],
  ])(
    'answers register with %s as a route that does not exist: 404 NOT_FOUND, nothing written',
    async (_, body) => {
      const before = await countRows(closed, 'users');
      const res = await request(closed.http).post('/v1/auth/register').send(body);

      expect(problemOf(res)).toEqual(problem(404, 'NOT_FOUND'));
      expect(res.body.detail).toBe('Cannot POST /v1/auth/register');
      expect(await countRows(closed, 'users')).toBe(before);
    },
  );

  it('still lets existing users log in', async () => {
    const user = await createUser(closed, 'user');
    expect((await me(closed, user.accessToken)).status).toBe(200);
  });
});

describe('Identity: two apps in one process', () => {
  it('each checks bearer tokens against its own secret and revocation list', async () => {
    const first = await startTestApp();
    try {
      const session = await register(first);
      const second = await startTestApp({
        env: { JWT_SECRET: 'a-second-secret-for-another-app-in-this-process' },
      });
      try {
        expect((await me(first, session.accessToken)).status).toBe(200);
        expect(problemOf(await me(second, session.accessToken))).toEqual(
          problem(401, 'INVALID_TOKEN'),
        );
      } finally {
        await second.close();
      }
      expect((await me(first, session.accessToken)).status).toBe(200);
      await request(first.http)
        .post('/v1/auth/logout')
        .set(bearer(session.accessToken))
        .send({ refreshToken: session.refreshToken });
      expect(problemOf(await me(first, session.accessToken))).toEqual(
        problem(401, 'INVALID_TOKEN'),
      );
    } finally {
      await first.close();
    }
  });
});
