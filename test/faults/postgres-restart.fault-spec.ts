import { KeelProcess, killProcess } from '../helpers/child-process';
import {
  call,
  FaultServices,
  problemOf,
  registerUser,
  sleep,
  startApi,
  startFaultServices,
  until,
  within,
} from './fault-kit';

/** No request may take longer than this, whatever the database does (ms). */
const REQUEST_BOUND_MS = 6000;
const POOL_SIZE = 4;

/** The outcome of one background request: its status, or why it never got one. */
type Outcome = { status: number; ms: number } | { error: string; ms: number };

describe('PostgreSQL restarted under a serving API (production build, private PostgreSQL and Redis)', () => {
  let services: FaultServices | undefined;
  let api: KeelProcess | undefined;
  /** Background traffic runs while this is set (and 30 s at most). */
  let load = false;

  beforeAll(async () => {
    services = await startFaultServices({
      DB_POOL_SIZE: String(POOL_SIZE),
      RATE_LIMIT_MAX: '100000',
      SHUTDOWN_DELAY_MS: '0',
    });
    api = await startApi(services.env);
  });

  afterAll(async () => {
    load = false;
    await killProcess(api);
    await services?.stop();
  });

  it('answers 503 promptly while it is down, then the pool recovers; no request hangs', async () => {
    const { url } = api as KeelProcess;
    const postgres = (services as FaultServices).postgres;
    const bearer = { Authorization: `Bearer ${await registerUser(api as KeelProcess, 'pg')}` };
    // GET /v1/auth/me reads the user's row: it needs the database on every call.
    const me = () => call(`${url}/v1/auth/me`, { headers: bearer }, REQUEST_BOUND_MS);
    expect((await me()).status).toBe(200);

    // Background traffic across the whole outage: two callers, one request after another. Every
    // request is aborted after REQUEST_BOUND_MS, which the assertions below count as a hang.
    const outcomes: Outcome[] = [];
    load = true;
    const loadDeadline = Date.now() + 30_000;
    const caller = async () => {
      while (load && Date.now() < loadDeadline) {
        const started = Date.now();
        try {
          outcomes.push({ status: (await me()).status, ms: Date.now() - started });
        } catch (error) {
          outcomes.push({
            error: String((error as Error).cause ?? error),
            ms: Date.now() - started,
          });
        }
        await sleep(20);
      }
    };
    const callers = [caller(), caller()];
    await until('background requests answered', () => outcomes.length >= 4 || undefined, 5000);

    // fast: every session is terminated at once, the pool's connections die under it.
    await postgres.stop('fast');
    const down = Date.now();

    expect((await call(`${url}/health/live`)).status).toBe(200);
    const ready = await call(`${url}/health/ready`, {}, REQUEST_BOUND_MS);
    expect(ready.status).toBe(503);
    expect(ready.body).toMatchObject({ error: { database: { status: 'down' } } });
    const health = await call(`${url}/health`, {}, REQUEST_BOUND_MS);
    expect(health.status).toBe(503);
    expect(health.body).toMatchObject({
      status: 'unhealthy',
      checks: { database: { status: 'down' }, redis: { status: 'up' } },
    });
    const refused = await me();
    expect(refused.ms).toBeLessThan(REQUEST_BOUND_MS);
    expect(refused.status).toBe(503);
    expect(problemOf(refused)).toMatchObject({
      type: 'application/problem+json',
      code: 'SERVICE_UNAVAILABLE',
    });
    // Keep it down long enough for the background callers to meet the outage too.
    await sleep(Math.max(0, 1000 - (Date.now() - down)));

    await postgres.start();

    // The same process: the pool replaces its dead connections, no restart needed.
    await until(
      'GET /v1/auth/me answers 200 again',
      async () => (await me()).status === 200 || undefined,
      15_000,
      200,
    );
    await until(
      'readiness 200 again',
      async () => (await call(`${url}/health/ready`)).status === 200 || undefined,
      10_000,
      200,
    );
    // Every connection of the pool works again: more concurrent requests than connections.
    const burst = await Promise.all(Array.from({ length: POOL_SIZE * 3 }, me));
    expect(burst.map((res) => res.status)).toEqual(Array(POOL_SIZE * 3).fill(200));

    load = false;
    await within('background callers stopped', Promise.all(callers), REQUEST_BOUND_MS + 1000);
    // Every request got an answer in bounded time: none aborted, only 200 or a 5xx problem.
    const failures = outcomes.filter((outcome) => 'error' in outcome);
    expect(failures).toEqual([]);
    const statuses = new Set(outcomes.map((outcome) => (outcome as { status: number }).status));
    expect([...statuses].filter((status) => ![200, 503].includes(status))).toEqual([]);
    expect(statuses.has(200)).toBe(true);
    expect(Math.max(...outcomes.map((outcome) => outcome.ms))).toBeLessThan(REQUEST_BOUND_MS);
    // The outage was seen by the background traffic, not only by the probes above.
    expect(outcomes.some((outcome) => 'status' in outcome && outcome.status >= 500)).toBe(true);

    const running = api as KeelProcess;
    expect(running.child.exitCode).toBeNull();
    running.child.kill('SIGTERM');
    expect(await within('exit after SIGTERM', running.exited, 15_000)).toBe(0);
  });
});
