import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { spawnKeel, waitUntilServing } from './helpers/child-process';
import { redisUrl } from './helpers/services';
import { createTestDatabase, TestDatabase } from './helpers/test-database';

/** Environment of a services-mode (or embedded, outside CI without services) test process. */
async function serviceEnv(database: TestDatabase): Promise<Record<string, string>> {
  const redis = await redisUrl();
  return {
    APP_ENV: 'test',
    LOG_LEVEL: 'info',
    ...(database.url && { DATABASE_URL: database.url }),
    ...(redis && { REDIS_URL: redis }),
  };
}

describe('The API process', () => {
  it('exits 1 before listening, one clear line per configuration problem and no stack trace', async () => {
    const keel = await spawnKeel({ APP_ENV: 'production', JWT_SECRET: 'changeme' });
    expect(await keel.exited).toBe(1);
    const lines = keel.stderr().trim().split('\n');
    expect(lines).toEqual(
      expect.arrayContaining([
        'Invalid configuration: DATABASE_URL: required in production (embedded PGlite is for development and tests)',
        'Invalid configuration: JWT_SECRET: is a known placeholder; generate one with: openssl rand -base64 48',
      ]),
    );
    expect(lines.every((line) => line.startsWith('Invalid configuration: '))).toBe(true);
    expect(keel.stdout()).toBe('');
  });

  describe('graceful shutdown', () => {
    let database: TestDatabase;
    let slowDependency: Server;
    let slowUrl: string;
    let dependencyHits = 0;

    beforeAll(async () => {
      database = await createTestDatabase();
      // /health waits for this external check, which makes it a slow request we can hold in flight.
      slowDependency = createServer((_req, res) => {
        dependencyHits++;
        setTimeout(() => res.end('ok'), 1500);
      });
      await new Promise<void>((resolve) => slowDependency.listen(0, '127.0.0.1', resolve));
      slowUrl = `http://127.0.0.1:${(slowDependency.address() as AddressInfo).port}/`;
    });
    afterAll(async () => {
      await new Promise((resolve) => slowDependency.close(resolve));
      await database.drop();
    });

    it('turns readiness 503 at once, completes in-flight requests with 200 and exits 0', async () => {
      const keel = await spawnKeel({
        ...(await serviceEnv(database)),
        SHUTDOWN_DELAY_MS: '800',
        SHUTDOWN_TIMEOUT_MS: '10000',
        HEALTH_CHECK_URLS: `slow=${slowUrl}`,
      });
      await waitUntilServing(keel);
      expect((await fetch(`${keel.url}/health/ready`)).status).toBe(200);
      const features = await fetch(`${keel.url}/v1/features`, {
        headers: { Authorization: 'Bearer very-secret-token', 'X-Request-Id': 'log-me-1' },
      });
      expect(features.status).toBe(200);
      const malformed = await fetch(`${keel.url}/v1/features`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-Request-Id': 'log-me-2' },
        body: '{"password": "hunter2",',
      });
      expect(malformed.status).toBe(400);

      const inFlight = Array.from({ length: 5 }, () => fetch(`${keel.url}/health`));
      while (dependencyHits === 0) await new Promise((resolve) => setTimeout(resolve, 20));
      keel.child.kill('SIGTERM');
      await new Promise((resolve) => setTimeout(resolve, 100));

      const ready = await fetch(`${keel.url}/health/ready`);
      expect(ready.status).toBe(503);
      expect(await ready.json()).toMatchObject({ error: { shutdown: { status: 'down' } } });

      const responses = await Promise.all(inFlight);
      expect(responses.map((response) => response.status)).toEqual([200, 200, 200, 200, 200]);
      expect(await keel.exited).toBe(0);
      await expect(fetch(`${keel.url}/health/live`)).rejects.toThrow();

      const lines = keel
        .stdout()
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>);
      // One JSON line per request, by route template; probes and scrapes log at debug only.
      expect(lines.find((line) => line.requestId === 'log-me-1')).toEqual({
        level: 'info',
        time: expect.any(String),
        service: 'keel',
        version: expect.any(String),
        requestId: 'log-me-1',
        method: 'GET',
        route: '/v1/features',
        status: 200,
        durationMs: expect.any(Number),
        ip: expect.any(String),
        msg: 'request completed',
      });
      // A request refused before routing (body parser) is logged too, at warn.
      expect(lines.find((line) => line.requestId === 'log-me-2')).toMatchObject({
        level: 'warn',
        method: 'POST',
        route: 'unmatched',
        status: 400,
      });
      expect(lines.some((line) => line.route === '/health')).toBe(false);
      // The 503 readiness of the drain too: a probe's answer, not an error.
      expect(lines.some((line) => line.route === '/health/ready')).toBe(false);
      expect(keel.stdout()).not.toContain('hunter2');
      expect(lines.some((line) => line.msg === 'shutdown complete')).toBe(true);
      // Exited on its own: the server, Redis and the database pool were all closed.
      expect(lines.some((line) => String(line.msg).includes('open handles remain'))).toBe(false);
      expect(keel.stdout()).not.toContain('very-secret-token');
    });
  });
});
