import { spawnSync } from 'node:child_process';
import request from 'supertest';
import { ProbeModule } from './helpers/probe.module';
import { IN_CI } from './helpers/services';
import { startTestApp, TestApp } from './helpers/test-app';

/** promtool may be absent on a laptop; CI installs it, so there the check never skips. */
const itWithPromtool = spawnSync('promtool', ['--version']).status === 0 || IN_CI ? it : it.skip;

describe('Metrics', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ imports: [ProbeModule] });
  });
  afterAll(() => t.close());

  it('exposes process metrics in the Prometheus text format', async () => {
    const res = await request(t.http).get('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(res.text).toMatch(/^process_cpu_user_seconds_total \d/m);
    expect(res.text).toMatch(/^nodejs_eventloop_lag_seconds /m);
  });

  it('counts requests by method, route template and status, never the raw URL', async () => {
    await request(t.http).get('/v1/probe/items/8675309');
    await request(t.http).get('/v1/probe/items/8675309');
    await request(t.http).get('/v1/no/such/route/555');
    const { text } = await request(t.http).get('/metrics');
    expect(text).toContain(
      'http_requests_total{method="GET",route="/v1/probe/items/:id",status="200"} 2',
    );
    expect(text).toContain('http_requests_total{method="GET",route="unmatched",status="404"} 1');
    expect(text).toMatch(
      /http_request_duration_seconds_bucket\{le="0\.005",method="GET",route="\/v1\/probe\/items\/:id",status="200"\} \d/,
    );
    const routes = [...text.matchAll(/route="([^"]*)"/g)].map(([, route]) => route);
    expect(routes.filter((route) => /8675309|555/.test(route))).toEqual([]);
  });

  it('labels requests selected by the X-API-Version header with their versioned route', async () => {
    await request(t.http).get('/probe/legacy').set('X-API-Version', '2');
    const { text } = await request(t.http).get('/metrics');
    expect(text).toContain(
      'http_requests_total{method="GET",route="/v2/probe/legacy",status="200"} 1',
    );
  });

  itWithPromtool('passes promtool check metrics', async () => {
    await request(t.http).get('/v1/features');
    const { text } = await request(t.http).get('/metrics');
    const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(check.error).toBeUndefined();
    expect({ status: check.status, problems: `${check.stdout}${check.stderr}` }).toEqual({
      status: 0,
      problems: '',
    });
  });
});

describe('Metrics with METRICS_TOKEN', () => {
  const token = 'scrape-token-0123456789';
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ env: { METRICS_TOKEN: token } });
  });
  afterAll(() => t.close());

  it('refuses a scrape without the bearer token', async () => {
    const missing = await request(t.http).get('/metrics');
    expect(missing.status).toBe(401);
    expect(missing.body.code).toBe('UNAUTHORIZED');
    for (const header of [`Bearer ${token}x`, `Basic ${token}`, token, `Bearer ${token} x`]) {
      const wrong = await request(t.http).get('/metrics').set('Authorization', header);
      expect({ header, status: wrong.status }).toEqual({ header, status: 401 });
    }
  });

  it('serves a scrape with the bearer token, the scheme in any case', async () => {
    for (const scheme of ['Bearer', 'bearer', 'BEARER']) {
      const res = await request(t.http).get('/metrics').set('Authorization', `${scheme} ${token}`);
      expect(res.status).toBe(200);
      expect(res.text).toContain('http_requests_total');
    }
  });
});
