import { createServer, Server } from 'node:http';
import { AddressInfo, createServer as createNetServer } from 'node:net';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { eventually } from './helpers/auth-checks';
import { freePort } from './helpers/child-process';
import { startTestApp, TestApp } from './helpers/test-app';
import { dropTestDatabase } from './helpers/test-database';
import { postgresAdminUrl } from './helpers/services';

/** A stand-in for an external dependency: answers with the given status, counting hits. */
async function fakeDependency(
  status: number,
): Promise<{ url: string; hits: () => number; close: () => Promise<void> }> {
  let hits = 0;
  const server: Server = createServer((_req, res) => {
    hits++;
    res.statusCode = status;
    res.end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/status`,
    hits: () => hits,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe('Health', () => {
  describe('with every dependency up', () => {
    let t: TestApp;
    let upstream: Awaited<ReturnType<typeof fakeDependency>>;

    beforeAll(async () => {
      upstream = await fakeDependency(200);
      t = await startTestApp({ env: { HEALTH_CHECK_URLS: `billing=${upstream.url}` } });
    });
    afterAll(async () => {
      await t.close();
      await upstream.close();
    });

    it('answers liveness without touching a dependency', async () => {
      const res = await request(t.http).get('/health/live');
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ status: 'ok' });
    });

    it('is ready when the database (and Redis, when configured) answer', async () => {
      const res = await request(t.http).get('/health/ready');
      expect(res.status).toBe(200);
      expect(res.body.status).toBe('ok');
      expect(res.body.details.database.status).toBe('up');
      const redisUp = { status: 'up', responseTime: expect.any(Number) };
      expect(res.body.details.redis).toEqual(t.config.redis.url ? redisUp : undefined);
    });

    it('reports healthy with version, uptime, timestamp and per-check latency', async () => {
      const res = await request(t.http).get('/health');
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        status: 'healthy',
        version: t.config.app.version,
        uptimeSeconds: expect.any(Number),
        checks: {
          database: { status: 'up', latencyMs: expect.any(Number) },
          billing: { status: 'up', latencyMs: expect.any(Number) },
        },
      });
      expect(Date.parse(res.body.timestamp)).not.toBeNaN();
      expect(res.headers['cache-control']).toBe('no-store');
    });

    it('caches external checks so probes cannot stampede them', async () => {
      const before = upstream.hits();
      await Promise.all([request(t.http).get('/health'), request(t.http).get('/health')]);
      await request(t.http).get('/health');
      expect(upstream.hits() - before).toBeLessThanOrEqual(1);
    });
  });

  it('is degraded (200) when only an external dependency is down', async () => {
    const broken = await fakeDependency(503);
    const t = await startTestApp({ env: { HEALTH_CHECK_URLS: `search=${broken.url}` } });
    try {
      const res = await request(t.http).get('/health');
      expect(res.status).toBe(200);
      expect(res.body.status).toBe('degraded');
      expect(res.body.checks.search.status).toBe('down');
      expect(res.body.checks.database.status).toBe('up');
      expect((await request(t.http).get('/health/ready')).status).toBe(200);
    } finally {
      await t.close();
      await broken.close();
    }
  });

  it('checks the mail server of SMTP_URL by its 220 greeting; down only degrades', async () => {
    const greetings: string[] = [];
    const smtp = createNetServer((socket) => {
      socket.write('220 mail.test ESMTP\r\n');
      socket.on('data', (data) => greetings.push(data.toString()));
    });
    await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
    const { port } = smtp.address() as AddressInfo;
    const up = await startTestApp({ env: { SMTP_URL: `smtp://127.0.0.1:${port}` } });
    const down = await startTestApp({ env: { SMTP_URL: `smtp://127.0.0.1:${await freePort()}` } });
    try {
      const healthy = await request(up.http).get('/health');
      expect(healthy.body.status).toBe('healthy');
      expect(healthy.body.checks.smtp).toEqual({ status: 'up', latencyMs: expect.any(Number) });
      const quit = () => Promise.resolve(greetings.join('') === 'QUIT\r\n' || null);
      expect(await eventually(quit)).toBe(true);
      const degraded = await request(down.http).get('/health');
      expect(degraded.status).toBe(200);
      expect(degraded.body.status).toBe('degraded');
      expect(degraded.body.checks.smtp.status).toBe('down');
      expect((await request(down.http).get('/health/ready')).status).toBe(200);
    } finally {
      await Promise.all([up.close(), down.close()]);
      await new Promise((resolve) => smtp.close(resolve));
    }
  });

  it('is not ready, and degraded, while Redis is unreachable', async () => {
    const t = await startTestApp({ redis: false, env: { REDIS_URL: 'redis://127.0.0.1:1' } });
    try {
      const ready = await request(t.http).get('/health/ready');
      expect(ready.status).toBe(503);
      expect(ready.headers['content-type']).toMatch(/^application\/json/);
      expect(ready.body).toMatchObject({ status: 'error', error: { redis: { status: 'down' } } });
      const report = await request(t.http).get('/health');
      expect(report.status).toBe(200);
      expect(report.body.status).toBe('degraded');
      expect(report.body.checks.redis.status).toBe('down');
    } finally {
      await t.close();
    }
  });

  it('is unhealthy (503) and not ready when the database is gone', async () => {
    const adminUrl = await postgresAdminUrl();
    const t = await startTestApp();
    try {
      if (adminUrl && t.database.url) {
        await dropTestDatabase(adminUrl, new URL(t.database.url).pathname.slice(1));
      } else {
        await t.app.get(DataSource).destroy();
      }
      const report = await request(t.http).get('/health');
      expect(report.status).toBe(503);
      expect(report.body).toMatchObject({
        status: 'unhealthy',
        checks: { database: { status: 'down' } },
      });
      expect((await request(t.http).get('/health/ready')).status).toBe(503);
      expect((await request(t.http).get('/health/live')).status).toBe(200);
    } finally {
      await t.close();
    }
  });
});
