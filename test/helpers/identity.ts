import { createHmac, randomUUID } from 'node:crypto';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { UserResponse } from '../../src/users/dto/user-response.dto';
import { Role } from '../../src/users/role';
import { UsersService } from '../../src/users/users.service';
import { TestApp } from './test-app';

export interface Session {
  user: UserResponse;
  email: string;
  password: string;
  accessToken: string;
  refreshToken: string;
}

export const DEFAULT_PASSWORD = 'correct horse battery staple';

/** An email no other test uses. */
export function uniqueEmail(label = 'user'): string {
  return `${label}-${randomUUID().slice(0, 8)}@example.com`;
}

export function bearer(token: string): { Authorization: string } {
  return { Authorization: `Bearer ${token}` };
}

/** Registers through POST /v1/auth/register, as a client would. */
export async function register(
  t: TestApp,
  overrides: Partial<{ email: string; password: string; name: string }> = {},
): Promise<Session> {
  const email = overrides.email ?? uniqueEmail();
  const password = overrides.password ?? DEFAULT_PASSWORD;
  const res = await request(t.http)
    .post('/v1/auth/register')
    .send({ email, password, name: overrides.name ?? 'Test User' });
  return sessionOf(res, 201, 'register', email, password);
}

/** Logs in through POST /v1/auth/login. */
export async function login(
  t: TestApp,
  email: string,
  password = DEFAULT_PASSWORD,
): Promise<Session> {
  const res = await request(t.http).post('/v1/auth/login').send({ email, password });
  return sessionOf(res, 200, 'login', email, password);
}

function sessionOf(
  res: request.Response,
  status: number,
  action: string,
  email: string,
  password: string,
): Session {
  if (res.status !== status) {
    throw new Error(`${action} failed: ${res.status} ${JSON.stringify(res.body)}`);
  }
  const body = res.body as { user: UserResponse; accessToken: string; refreshToken: string };
  return {
    user: body.user,
    email,
    password,
    accessToken: body.accessToken,
    refreshToken: body.refreshToken,
  };
}

/** A user of any role (admins and guests cannot register), logged in. */
export async function createUser(t: TestApp, role: Role, name = `Test ${role}`): Promise<Session> {
  const email = uniqueEmail(role);
  await t.app.get(UsersService).create({ email, password: DEFAULT_PASSWORD, name, role });
  return login(t, email);
}

/** Rows in a table, to assert that a refused request wrote nothing. */
export async function countRows(
  t: TestApp,
  table: 'users' | 'refresh_tokens' | 'api_keys',
): Promise<number> {
  const [row] = await t.app
    .get(DataSource)
    .query<{ n: number }[]>(`SELECT count(*)::int AS n FROM ${table}`);
  return row.n;
}

/**
 * A hand-made JWT, for tokens the API must refuse: another algorithm, alg "none", no exp, a
 * foreign secret. `algorithm` is what the header claims; HS* are really signed with `secret`.
 */
export function forgeJwt(
  payload: Record<string, unknown>,
  options: { secret: string; algorithm?: 'HS256' | 'HS384' | 'HS512' | 'none' },
): string {
  const algorithm = options.algorithm ?? 'HS256';
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const unsigned = `${encode({ alg: algorithm, typ: 'JWT' })}.${encode(payload)}`;
  if (algorithm === 'none') return `${unsigned}.`;
  const hash = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' }[algorithm];
  return `${unsigned}.${createHmac(hash, options.secret).update(unsigned).digest('base64url')}`;
}

/** Claims of a valid access token for the app, to be altered by a test. */
export function accessClaims(
  t: TestApp,
  user: { id: string; role: Role },
): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return {
    sub: user.id,
    role: user.role,
    jti: randomUUID(),
    iat: now,
    exp: now + 600,
    iss: t.config.jwt.issuer,
    aud: t.config.jwt.audience,
  };
}

/** An API key of `session`'s user with these scopes, through POST /v1/api-keys; its secret. */
export async function createApiKey(
  t: TestApp,
  session: Session,
  scopes: string[],
): Promise<string> {
  const res = await request(t.http)
    .post('/v1/api-keys')
    .set(bearer(session.accessToken))
    .send({ name: 'test key', scopes });
  if (res.status !== 201) throw new Error(`API key: ${res.status} ${JSON.stringify(res.body)}`);
  return (res.body as { key: string }).key;
}
