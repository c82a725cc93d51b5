import { randomUUID } from 'node:crypto';
import {
  KeelProcess,
  killProcess,
  spawnKeel,
  spawnWorker,
  waitUntilServing,
} from './helpers/child-process';
import { DEFAULT_PASSWORD, uniqueEmail } from './helpers/identity';
import { redisUrl } from './helpers/services';
import { describeWithSharedServices } from './helpers/shared-services';
import {
  ack,
  disconnection,
  nextEvent,
  nextEventWhere,
  record,
  SocketClients,
  within,
} from './helpers/socket';
import { createTestDatabase, TestDatabase } from './helpers/test-database';

interface Login {
  userId: string;
  accessToken: string;
  refreshToken: string;
}

interface Call {
  token?: string;
  /** The client's address (X-Forwarded-For; the processes trust the proxy): a limit bucket of its own. */
  ip: string;
  body?: unknown;
}

/** An HTTP call to one of the processes, as a client behind the load balancer would make it. */
async function call(
  keel: KeelProcess,
  method: string,
  path: string,
  { token, ip, body }: Call,
): Promise<Response> {
  return fetch(`${keel.url}${path}`, {
    method,
    headers: {
      'X-Forwarded-For': ip,
      ...(token && { Authorization: `Bearer ${token}` }),
      ...(body !== undefined && { 'Content-Type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

async function login(keel: KeelProcess, email: string, ip: string): Promise<Login> {
  const res = await call(keel, 'POST', '/v1/auth/login', {
    ip,
    body: { email, password: DEFAULT_PASSWORD },
  });
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${await res.text()}`);
  const body = (await res.json()) as {
    user: { id: string };
    accessToken: string;
    refreshToken: string;
  };
  return { userId: body.user.id, accessToken: body.accessToken, refreshToken: body.refreshToken };
}

async function register(keel: KeelProcess, name: string, ip: string): Promise<Login> {
  const email = uniqueEmail(name.toLowerCase());
  const res = await call(keel, 'POST', '/v1/auth/register', {
    ip,
    body: { email, password: DEFAULT_PASSWORD, name },
  });
  if (res.status !== 201) throw new Error(`register failed: ${res.status} ${await res.text()}`);
  const body = (await res.json()) as {
    user: { id: string };
    accessToken: string;
    refreshToken: string;
  };
  return { userId: body.user.id, accessToken: body.accessToken, refreshToken: body.refreshToken };
}

async function metric(keel: KeelProcess, series: string): Promise<number> {
  const text = await (await fetch(`${keel.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return Number(line?.split(' ')[1] ?? 0);
}

const COMPLETED_DATA_PROCESS = 'jobs_processed_total{type="data.process",status="completed"}';

/**
 * Two API processes and one worker process (the built `dist/`, as deployed) on one PostgreSQL
 * database and one Redis: state that must be shared is, and realtime spans the instances.
 */
describeWithSharedServices('Two API instances and a worker on shared PostgreSQL and Redis', () => {
  const adminEmail = uniqueEmail('admin');
  let database: TestDatabase;
  let a: KeelProcess | undefined;
  let b: KeelProcess | undefined;
  let worker: KeelProcess | undefined;
  let onA: SocketClients;
  let onB: SocketClients;
  let admin: Login;

  /** The processes, once started (beforeAll fails otherwise). */
  const instances = (): { a: KeelProcess; b: KeelProcess; worker: KeelProcess } => {
    if (!a || !b || !worker) throw new Error('the processes did not start');
    return { a, b, worker };
  };

  beforeAll(async () => {
    database = await createTestDatabase();
    const redis = await redisUrl();
    if (!database.url || !redis) throw new Error('PostgreSQL and Redis are required');
    const env = {
      APP_ENV: 'test',
      LOG_LEVEL: 'warn',
      DATABASE_URL: database.url,
      REDIS_URL: redis,
      REDIS_PREFIX: `test:${randomUUID()}:`,
      WORKER_IN_PROCESS: 'false',
      TRUST_PROXY: 'true',
      RATE_LIMIT_AUTH_MAX: '3',
      ADMIN_EMAIL: adminEmail,
      ADMIN_PASSWORD: DEFAULT_PASSWORD,
    };
    // A first: it migrates the new database; then B and the worker together.
    a = await spawnKeel(env);
    await waitUntilServing(a, 30_000);
    [b, worker] = await Promise.all([spawnKeel(env), spawnWorker(env)]);
    await Promise.all([waitUntilServing(b, 30_000), waitUntilServing(worker, 30_000)]);
    onA = new SocketClients(a.url);
    onB = new SocketClients(b.url);
    admin = await login(a, adminEmail, '10.0.0.1');
  }, 90_000);

  afterEach(() => {
    onA?.closeAll();
    onB?.closeAll();
  });

  afterAll(async () => {
    await Promise.all([killProcess(a), killProcess(b), killProcess(worker)]);
    await database?.drop();
  });

  it('delivers a message sent on A to a socket on B, and a broadcast posted on A too', async () => {
    const { a: apiA, b: apiB } = instances();
    const [alice, bob] = await Promise.all([
      register(apiA, 'Alice', '10.0.1.1'),
      register(apiB, 'Bob', '10.0.1.2'),
    ]);
    const aliceOnA = await onA.connect(alice.accessToken);
    const bobOnB = await onB.connect(bob.accessToken);
    const room = `public:cluster-${randomUUID().slice(0, 8)}`;
    expect(await ack(aliceOnA, 'room:join', { room })).toEqual({ ok: true });
    expect(await ack(bobOnB, 'room:join', { room })).toEqual({ ok: true });

    const toBob = nextEvent(bobOnB, 'message');
    const sent = await ack(aliceOnA, 'message', { room, text: 'from A' });
    expect(sent).toMatchObject({ ok: true });
    expect(await toBob).toEqual({
      id: sent.id,
      room,
      from: { id: alice.userId, name: 'Alice' },
      text: 'from A',
      at: expect.any(String),
    });

    const broadcast = nextEvent(bobOnB, 'broadcast');
    const posted = await call(apiA, 'POST', '/v1/realtime/broadcast', {
      token: admin.accessToken,
      ip: '10.0.0.1',
      body: { message: 'to every instance' },
    });
    expect(posted.status).toBe(202);
    expect(await broadcast).toMatchObject({ message: 'to every instance' });
  });

  it("runs a job created on A in the worker and pushes job.completed to the owner's sockets once each", async () => {
    const { a: apiA, b: apiB, worker: jobs } = instances();
    const owner = await register(apiA, 'Owner', '10.0.2.1');
    const onBoth = [await onA.connect(owner.accessToken), await onB.connect(owner.accessToken)];
    // Registration queued a welcome email, whose events may arrive too: only data.process counts.
    type Completed = { id: string; type: string };
    const isDataProcess = (event: Completed) => event.type === 'data.process';
    const completed = onBoth.map((socket) => record<Completed>(socket, 'job.completed'));
    const ranBefore = await metric(jobs, COMPLETED_DATA_PROCESS);

    const runJob = async (items: number[]): Promise<string> => {
      const res = await call(apiA, 'POST', '/v1/jobs', {
        token: owner.accessToken,
        ip: '10.0.2.1',
        body: { type: 'data.process', payload: { items } },
      });
      expect(res.status).toBe(202);
      const { id } = (await res.json()) as { id: string };
      // Received already (the worker may be faster than the response), or still to come.
      const done = onBoth.map((socket, i) => {
        const received = completed[i].find((event) => event.id === id);
        return received
          ? Promise.resolve(received)
          : nextEventWhere<Completed>(socket, 'job.completed', (event) => event.id === id, 20_000);
      });
      expect(await Promise.all(done)).toEqual([
        { id, type: 'data.process', result: expect.any(Object) },
        { id, type: 'data.process', result: expect.any(Object) },
      ]);
      return id;
    };

    const first = await runJob([1, 2, 3]);
    expect(completed[1].find((event) => event.id === first)).toEqual({
      id: first,
      type: 'data.process',
      result: { count: 3, sum: 6, mean: 2, min: 1, max: 3 },
    });
    // A second job's event, relayed the same way, comes after any duplicate of the first.
    const second = await runJob([4]);
    expect(
      completed.map((events) => events.filter(isDataProcess).map((event) => event.id)),
    ).toEqual([
      [first, second],
      [first, second],
    ]);
    // The worker ran them; the API processes run no jobs (WORKER_IN_PROCESS=false).
    expect(await metric(jobs, COMPLETED_DATA_PROCESS)).toBe(ranBefore + 2);
    expect(await metric(apiA, COMPLETED_DATA_PROCESS)).toBe(0);
    expect(await metric(apiB, COMPLETED_DATA_PROCESS)).toBe(0);
  });

  it('disconnects a socket on B when its token is logged out on A', async () => {
    const { a: apiA } = instances();
    const carol = await register(apiA, 'Carol', '10.0.3.1');
    const socket = await onB.connect(carol.accessToken);
    const ended = nextEvent(socket, 'session.ended');
    const gone = disconnection(socket);

    const out = await call(apiA, 'POST', '/v1/auth/logout', {
      token: carol.accessToken,
      ip: '10.0.3.1',
      body: { refreshToken: carol.refreshToken },
    });

    expect(out.status).toBe(204);
    expect(await ended).toEqual({ reason: 'revoked' });
    expect(await gone).toBe('io server disconnect');
  });

  it('counts login attempts on both instances against one limit', async () => {
    const { a: apiA, b: apiB } = instances();
    const attempt = (keel: KeelProcess) =>
      call(keel, 'POST', '/v1/auth/login', {
        ip: '10.0.4.1',
        body: { email: adminEmail, password: 'not the password' },
      });
    const statuses = [];
    for (const keel of [apiA, apiB, apiA]) statuses.push((await attempt(keel)).status);
    expect(statuses).toEqual([401, 401, 401]);
    const limited = await attempt(apiB);
    expect(limited.status).toBe(429);
    expect(((await limited.json()) as { code: string }).code).toBe('RATE_LIMITED');
  });

  it('serves on B the response A cached (X-Cache MISS on A, then HIT on B)', async () => {
    const { a: apiA, b: apiB } = instances();
    const dave = await register(apiA, 'Dave', '10.0.5.1');
    const get = (keel: KeelProcess) =>
      call(keel, 'GET', `/v1/users/${dave.userId}`, { token: admin.accessToken, ip: '10.0.0.1' });
    const miss = await get(apiA);
    const hit = await get(apiB);
    expect([miss.status, hit.status]).toEqual([200, 200]);
    expect([miss.headers.get('x-cache'), hit.headers.get('x-cache')]).toEqual(['MISS', 'HIT']);
    expect(await hit.json()).toEqual(await miss.json());
  });

  it('stops the three processes on SIGTERM with exit code 0', async () => {
    const processes = Object.values(instances());
    for (const keel of processes) keel.child.kill('SIGTERM');
    const codes = await within(
      Promise.all(processes.map((keel) => keel.exited)),
      20_000,
      'exit after SIGTERM',
    );
    expect(codes).toEqual([0, 0, 0]);
  });
});
