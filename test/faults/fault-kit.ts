import { randomBytes } from 'node:crypto';
import { createServer, get, IncomingHttpHeaders, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import {
  KeelProcess,
  killProcess,
  runMigrations,
  spawnKeel,
  waitUntilServing,
} from '../helpers/child-process';
import { PrivatePostgres } from '../helpers/private-postgres';
import { PrivateRedis } from '../helpers/private-redis';

/** Private services for one suite; `stop()` in afterAll releases whatever was started. */
export interface FaultServices {
  postgres: PrivatePostgres;
  redis: PrivateRedis;
  /** The production environment of an API or worker on these services. */
  env: Record<string, string>;
  stop(): Promise<void>;
}

/**
 * Private PostgreSQL and Redis on free ports (the shared ones stay untouched), migrated as a
 * production release is (the CLI step; production never migrates at boot), and the environment
 * a production API needs: strong secrets, an explicit CORS allowlist.
 */
export async function startFaultServices(
  extraEnv: Record<string, string> = {},
): Promise<FaultServices> {
  const [postgres, redis] = await Promise.allSettled([
    PrivatePostgres.start(),
    PrivateRedis.start(),
  ]);
  const stop = async () => {
    await Promise.all([
      postgres.status === 'fulfilled' ? postgres.value.destroy() : undefined,
      redis.status === 'fulfilled' ? redis.value.stop() : undefined,
    ]);
  };
  if (postgres.status === 'rejected' || redis.status === 'rejected') {
    await stop();
    throw postgres.status === 'rejected'
      ? postgres.reason
      : (redis as PromiseRejectedResult).reason;
  }
  const env = {
    APP_ENV: 'production',
    LOG_LEVEL: 'warn',
    DATABASE_URL: postgres.value.url,
    REDIS_URL: redis.value.url,
    JWT_SECRET: randomBytes(48).toString('base64'),
    WEBHOOK_SIGNING_SECRET: randomBytes(48).toString('base64'),
    CORS_ORIGINS: 'https://app.example.com',
    ...extraEnv,
  };
  try {
    await runMigrations(env);
  } catch (error) {
    await stop();
    throw error;
  }
  return { postgres: postgres.value, redis: redis.value, env, stop };
}

/** Spawns the built API and waits (bounded) until it answers /health/live. */
export async function startApi(env: Record<string, string>): Promise<KeelProcess> {
  const api = await spawnKeel(env);
  try {
    await waitUntilServing(api);
  } catch (error) {
    await killProcess(api);
    throw error;
  }
  return api;
}

/** Polls `check` until it returns a value; fails naming `what` after `timeoutMs`. */
export async function until<T>(
  what: string | (() => string),
  check: () => T | undefined | Promise<T | undefined>,
  timeoutMs: number,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await check();
    if (value !== undefined) return value;
    await sleep(intervalMs);
  }
  throw new Error(`${typeof what === 'string' ? what : what()}: not within ${timeoutMs} ms`);
}

/** Rejects after `timeoutMs`: a bound on a wait that would otherwise hang the suite. */
export function within<T>(what: string, promise: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** What a test reads of one answer, and how long it took. */
export interface Answer {
  status: number;
  headers: Headers;
  body: unknown;
  ms: number;
}

/**
 * One HTTP request that cannot hang the suite: aborted after `timeoutMs` (then it rejects,
 * naming the request). The body is parsed as JSON when it is JSON.
 */
export async function call(
  url: string,
  init: RequestInit & { json?: unknown } = {},
  timeoutMs = 5000,
): Promise<Answer> {
  const started = Date.now();
  const { json, ...rest } = init;
  const headers = new Headers(rest.headers);
  if (json !== undefined) headers.set('Content-Type', 'application/json');
  let response: Response;
  try {
    response = await fetch(url, {
      ...rest,
      headers,
      body: json === undefined ? rest.body : JSON.stringify(json),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    throw new Error(`${rest.method ?? 'GET'} ${url}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return answer(response.status, response.headers, await response.text(), started);
}

/** The body parsed as JSON when it is JSON. */
function answer(status: number, headers: Headers, text: string, started: number): Answer {
  const type = headers.get('content-type') ?? '';
  return {
    status,
    headers,
    body: /json/.test(type) && text ? (JSON.parse(text) as unknown) : text,
    ms: Date.now() - started,
  };
}

/**
 * A GET sent from another loopback address (Linux routes all of 127.0.0.0/8 to this host), so
 * the API sees a client of its own: a rate-limit bucket no other request of the test touched.
 */
export function getFrom(localAddress: string, url: string, timeoutMs = 5000): Promise<Answer> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const req = get(url, { localAddress, timeout: timeoutMs }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        const headers = new Headers();
        for (const [name, value] of Object.entries(res.headers)) {
          if (value !== undefined)
            headers.set(name, Array.isArray(value) ? value.join(', ') : value);
        }
        resolve(answer(res.statusCode ?? 0, headers, text, started));
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} from ${localAddress}: timed out`)));
    req.on('error', reject);
  });
}

/** The parts of a problem+json answer a test compares. */
export function problemOf(res: Answer): { status: number; type: string; code: unknown } {
  return {
    status: res.status,
    type: (res.headers.get('content-type') ?? '').split(';')[0],
    code: (res.body as { code?: unknown } | undefined)?.code,
  };
}

/** A registered user's access token, through the public route as a client gets one. */
export async function registerUser(api: KeelProcess, label: string): Promise<string> {
  const res = await call(`${api.url}/v1/auth/register`, {
    method: 'POST',
    json: {
      email: `${label}-${randomBytes(4).toString('hex')}@example.com`,
      password: 'correct horse battery staple',
      name: 'Fault Test',
    },
  });
  if (res.status !== 201) throw new Error(`register: ${res.status} ${JSON.stringify(res.body)}`);
  return (res.body as { accessToken: string }).accessToken;
}

/** An API key of the token's user with these scopes. */
export async function createApiKey(
  api: KeelProcess,
  token: string,
  scopes: string[],
): Promise<string> {
  const res = await call(`${api.url}/v1/api-keys`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}` },
    json: { name: 'fault test', scopes },
  });
  if (res.status !== 201) throw new Error(`API key: ${res.status} ${JSON.stringify(res.body)}`);
  return (res.body as { key: string }).key;
}

export interface Delivery {
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

/**
 * A webhook target on 127.0.0.1 that records every delivery, holds the first one open without
 * answering (the job stays active on the worker that sent it) and answers 200 to the others.
 */
export class HoldingWebhookTarget {
  readonly received: Delivery[] = [];
  private readonly server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      this.received.push({
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
        at: Date.now(),
      });
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
