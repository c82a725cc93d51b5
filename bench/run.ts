import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiClient } from './lib/api-client';
import { ADMIN_EMAIL, keelEnvironment } from './lib/environment';
import { LoadResult, LoadSettings, LoadTarget, measure } from './lib/load';
import { API_SCRIPT, BARE_SCRIPT, ROOT, WORKER_SCRIPT } from './lib/paths';
import { cleanUpOnSignal, pinLoadGenerator, Pinning, ProcessGroup, rssMb } from './lib/processes';
import { markdown, Report, ResourceRow, ThroughputRow, writeFormatted } from './lib/report';
import {
  databaseUrl,
  deleteKeys,
  dropDatabase,
  recreateDatabase,
  runMigrations,
  unfinishedJobs,
} from './lib/services';
import { median, round } from './lib/stats';
import { fanOut, FanOutResult } from './scenarios/fan-out';
import { jobLatency, JobLatencyResult } from './scenarios/job-latency';

/** In run order. `bare` is the reference every HTTP scenario is compared with. */
const SCENARIOS = [
  'startup',
  'idle-rss',
  'fan-out',
  'bare',
  'health-live',
  'users-me',
  'user-hit',
  'bare-rate',
  'users-me-rate',
  'jobs-enqueue',
  'job-latency',
  'login',
] as const;
type ScenarioId = (typeof SCENARIOS)[number];
const HTTP_SCENARIOS: ScenarioId[] = [
  'health-live',
  'users-me',
  'user-hit',
  'bare-rate',
  'users-me-rate',
  'jobs-enqueue',
  'login',
];

const DATABASE_NAME = 'keel_bench';
const IDLE_AFTER_LOAD_MS = 30_000;
/** Latency without queueing: a steady rate well below what the API serves. */
const FIXED_RATE = 1000;
const dash = '—';
const PASSWORD = `Bench-${randomBytes(12).toString('base64url')}`;

interface Settings {
  connections: number;
  durationS: number;
  warmupS: number;
  runs: number;
  jobs: number;
  sockets: number;
  maxSockets: number;
  adminDatabaseUrl: string;
  redisUrl: string;
  scenarios: ScenarioId[];
  /**
   * Node flags of every server here, the bare app included: the image's (Dockerfile
   * NODE_OPTIONS), or BENCH_NODE_FLAGS instead (e.g. GC tuning).
   */
  nodeFlags: string[];
  /** BENCH_LOG_LEVEL (warn): info writes the access log line of every request. */
  logLevel: string;
  /** BENCH_CPU_PROF: the servers run with --cpu-prof, profiles written here. */
  cpuProfDir?: string;
  outputDir: string;
}

function numberFrom(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number`);
  return value;
}

function readSettings(): Settings {
  const only = (process.env.BENCH_ONLY ?? '')
    .split(',')
    .map((id) => id.trim())
    .filter((id) => id !== '');
  for (const id of only) {
    if (!(SCENARIOS as readonly string[]).includes(id)) {
      throw new Error(`BENCH_ONLY: unknown scenario "${id}"; known: ${SCENARIOS.join(', ')}`);
    }
  }
  const wanted = new Set<string>(only.length > 0 ? only : SCENARIOS);
  if (HTTP_SCENARIOS.some((id) => wanted.has(id))) wanted.add('bare');
  const cpuProfDir = process.env.BENCH_CPU_PROF
    ? resolve(ROOT, process.env.BENCH_CPU_PROF)
    : undefined;
  // A partial or profiled run must not overwrite the full results the README links.
  const partial =
    only.length > 0 ||
    cpuProfDir !== undefined ||
    process.env.BENCH_NODE_FLAGS !== undefined ||
    process.env.BENCH_LOG_LEVEL !== undefined;
  return {
    connections: numberFrom('BENCH_CONNECTIONS', 50),
    durationS: numberFrom('BENCH_DURATION', 10),
    warmupS: numberFrom('BENCH_WARMUP', 5),
    runs: numberFrom('BENCH_RUNS', 3),
    jobs: numberFrom('BENCH_JOBS', 2000),
    sockets: numberFrom('BENCH_SOCKETS', 1000),
    maxSockets: numberFrom('BENCH_MAX_SOCKETS', 2000),
    adminDatabaseUrl: process.env.BENCH_DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/postgres',
    redisUrl: process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379',
    scenarios: SCENARIOS.filter((id) => wanted.has(id)),
    nodeFlags: flagsOf(process.env.BENCH_NODE_FLAGS ?? imageNodeOptions()),
    logLevel: process.env.BENCH_LOG_LEVEL ?? 'warn',
    cpuProfDir,
    outputDir: resolve(
      ROOT,
      process.env.BENCH_OUTPUT ?? (partial ? join('bench', 'results') : 'bench'),
    ),
  };
}

const started = performance.now();
function log(message: string): void {
  const seconds = ((performance.now() - started) / 1000).toFixed(1).padStart(6);
  console.log(`[bench ${seconds}s] ${message}`);
}

/** Everything measured, as written to results.json. */
interface Results {
  generatedAt: string;
  machine: {
    cpuModel: string;
    cores: number;
    memoryMb: number;
    node: string;
    kernel: string;
    /** 1, 5 and 15 minute load averages: other work on the machine makes figures noisy. */
    loadAverage: { atStart: number[]; atEnd?: number[] };
  };
  settings: Omit<Settings, 'adminDatabaseUrl' | 'redisUrl' | 'outputDir'>;
  pinning: Pinning;
  startup?: { readyMs: number[]; medianMs: number };
  /** MB: the API just booted, 5 s after a short load, and idle (30 s after it); the bare app. */
  idleRss?: { apiAfterBootMb: number; apiAfterLoadMb: number; apiMb: number; bareMb: number };
  http: Partial<Record<ScenarioId, LoadResult & { route: string }>>;
  drain?: { backlog: number; seconds: number; jobsPerSec: number };
  jobLatency?: { oneAtATime: JobLatencyResult; burst: JobLatencyResult };
  fanOut?: FanOutResult;
  rssAfterLoadMb?: number;
  cleanup?: { redisKeysDeleted: number; databaseDropped: boolean };
  profiles?: Record<string, string>;
}

class Bench {
  private readonly procs = new ProcessGroup();
  private readonly redisPrefix = `keel-bench:${process.pid}-${Date.now().toString(36)}:`;
  private readonly env: Record<string, string>;
  private readonly nodeFlags: string[];
  private readonly serverCore?: number;
  private readonly loadCore?: number;
  readonly results: Results;
  private cleaning?: Promise<void>;

  constructor(
    private readonly settings: Settings,
    pinning: Pinning,
  ) {
    this.env = keelEnvironment({
      databaseUrl: databaseUrl(settings.adminDatabaseUrl, DATABASE_NAME),
      redisUrl: settings.redisUrl,
      redisPrefix: this.redisPrefix,
      logLevel: settings.logLevel,
      adminPassword: PASSWORD,
    });
    this.nodeFlags = [
      ...settings.nodeFlags,
      ...(settings.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${settings.cpuProfDir}`] : []),
    ];
    this.serverCore = pinning.serverCore;
    this.loadCore = pinning.loadCore;
    const { connections, durationS, warmupS, runs, jobs, sockets, maxSockets, scenarios } =
      settings;
    const { nodeFlags, logLevel } = settings;
    this.results = {
      generatedAt: new Date().toISOString(),
      machine: {
        cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
        cores: cpus().length,
        memoryMb: Math.round(totalmem() / 2 ** 20),
        node: process.version,
        kernel: release(),
        loadAverage: { atStart: loadavg().map((load) => round(load, 2)) },
      },
      settings: {
        connections,
        durationS,
        warmupS,
        runs,
        jobs,
        sockets,
        maxSockets,
        scenarios,
        nodeFlags,
        logLevel,
        cpuProfDir: settings.cpuProfDir && relative(ROOT, settings.cpuProfDir),
      },
      pinning,
      http: {},
    };
  }

  private wants(id: ScenarioId): boolean {
    return this.settings.scenarios.includes(id);
  }

  private serveApi(nodeFlags = this.nodeFlags) {
    return this.procs.serve('api', API_SCRIPT, 'PORT', '/health/ready', {
      env: this.env,
      nodeFlags,
      core: this.serverCore,
    });
  }

  async run(): Promise<void> {
    const { settings } = this;
    log(`database ${DATABASE_NAME} (fresh), Redis prefix ${this.redisPrefix}`);
    await recreateDatabase(settings.adminDatabaseUrl, DATABASE_NAME);
    await runMigrations(this.env);
    log('migrations applied');

    if (this.wants('startup')) await this.startup();

    const [{ proc: api, url }, { proc: bare, url: bareUrl }, { proc: worker }] = await Promise.all([
      this.serveApi(),
      this.procs.serve('bare', BARE_SCRIPT, 'PORT', '/bare', {
        env: { NODE_ENV: 'production' },
        nodeFlags: this.nodeFlags,
        core: this.serverCore,
      }),
      this.procs.serve('worker', WORKER_SCRIPT, 'WORKER_PORT', '/health/ready', {
        env: this.env,
        nodeFlags: this.settings.nodeFlags,
        core: this.loadCore,
      }),
    ]);
    log(`API pid ${api.pid}, bare app pid ${bare.pid}, worker pid ${worker.pid}: ready`);
    let apiAfterBootMb = Number.NaN;
    if (this.wants('idle-rss')) {
      await sleep(2000);
      apiAfterBootMb = round(rssMb(api.pid));
    }

    const client = new ApiClient(url);
    const admin = await client.login(ADMIN_EMAIL, PASSWORD);
    const emails = await this.createUsers(client, admin.token);
    const user = await client.login(emails[0], PASSWORD);
    const bearer = { authorization: `Bearer ${user.token}` };
    log(`admin and ${emails.length} users ready`);

    if (this.wants('idle-rss')) {
      await measure(
        { url: `${url}/v1/users/me`, headers: bearer },
        { connections: 10, durationS: 2, warmupS: 1, runs: 1 },
      );
      // V8 gives memory back once allocation has been quiet for a while (its memory reducer):
      // idle is 30 s without requests; 5 s after the load, the heap is still sized for it.
      await sleep(5000);
      const apiAfterLoadMb = round(rssMb(api.pid));
      await sleep(IDLE_AFTER_LOAD_MS - 5000);
      const idle = {
        apiAfterBootMb,
        apiAfterLoadMb,
        apiMb: round(rssMb(api.pid)),
        bareMb: round(rssMb(bare.pid)),
      };
      this.results.idleRss = idle;
      log(
        `RSS: API ${apiAfterBootMb} MB booted, ${apiAfterLoadMb} MB 5 s after load, ${idle.apiMb} MB idle; bare ${idle.bareMb} MB`,
      );
    }

    // Before the HTTP load runs: the sockets' own memory, not the garbage those runs leave.
    if (this.wants('fan-out')) {
      log(`fan-out: ${settings.sockets} sockets, then ${settings.maxSockets}`);
      this.results.fanOut = await fanOut(client, admin.token, user.token, {
        clients: settings.sockets,
        maxSockets: settings.maxSockets,
        broadcasts: 20,
        warmupBroadcasts: 3,
        apiPid: api.pid,
      });
      const { deliveries, held } = this.results.fanOut;
      log(
        `fan-out: last delivery p99 ${deliveries.lastDeliveryMs.p99} ms; ${held.connected} sockets held, RSS ${held.rssMb} MB`,
      );
      await sleep(2000);
    }

    const load: LoadSettings = {
      connections: settings.connections,
      durationS: settings.durationS,
      warmupS: settings.warmupS,
      runs: settings.runs,
    };
    if (this.wants('bare'))
      await this.http('bare', 'GET /bare', { url: `${bareUrl}/bare` }, load, bare.pid);
    if (this.wants('health-live')) {
      await this.http(
        'health-live',
        'GET /health/live',
        { url: `${url}/health/live` },
        load,
        api.pid,
      );
    }
    if (this.wants('users-me')) {
      await client.request('GET', '/v1/users/me', { token: user.token, expect: 200 });
      await this.http(
        'users-me',
        'GET /v1/users/me',
        { url: `${url}/v1/users/me`, headers: bearer },
        load,
        api.pid,
      );
    }
    if (this.wants('user-hit')) await this.userHit(client, user, load, api.pid);
    if (this.wants('bare-rate')) {
      await this.http(
        'bare-rate',
        `GET /bare at ${run0(FIXED_RATE)} req/s`,
        { url: `${bareUrl}/bare`, ratePerSec: FIXED_RATE },
        load,
        bare.pid,
      );
    }
    if (this.wants('users-me-rate')) {
      await this.http(
        'users-me-rate',
        `GET /v1/users/me at ${run0(FIXED_RATE)} req/s`,
        { url: `${url}/v1/users/me`, headers: bearer, ratePerSec: FIXED_RATE },
        load,
        api.pid,
      );
    }
    if (this.wants('jobs-enqueue')) {
      await this.http(
        'jobs-enqueue',
        'POST /v1/jobs',
        {
          url: `${url}/v1/jobs`,
          method: 'POST',
          headers: { ...bearer, 'content-type': 'application/json' },
          body: JSON.stringify({ type: 'data.process', payload: { items: [1] } }),
        },
        load,
        api.pid,
      );
      await this.drain();
    }
    if (this.wants('job-latency')) {
      log('job latency: one at a time');
      const oneAtATime = await jobLatency(client, user.token, 200, 1);
      log(`job latency: ${settings.jobs} jobs, ${settings.connections} in flight`);
      const burst = await jobLatency(client, user.token, settings.jobs, settings.connections);
      this.results.jobLatency = { oneAtATime, burst };
      log(
        `job latency: p50 ${oneAtATime.latencyMs.p50} ms alone; burst p50 ${burst.latencyMs.p50} ms, p99 ${burst.latencyMs.p99} ms, ${burst.completedPerSec} jobs/s`,
      );
    }
    if (this.wants('login')) {
      let next = 0;
      await this.http(
        'login',
        'POST /v1/auth/login',
        {
          url: `${url}/v1/auth/login`,
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          // One user per connection: logins of one user would queue on its row's lock.
          setupClient: (connection) =>
            connection.setBody(
              JSON.stringify({ email: emails[next++ % emails.length], password: PASSWORD }),
            ),
        },
        load,
        api.pid,
      );
    }
    if (!api.hasExited()) this.results.rssAfterLoadMb = round(rssMb(api.pid));
    this.results.machine.loadAverage.atEnd = loadavg().map((load) => round(load, 2));
    await this.procs.stop(api);
    await this.procs.stop(bare);
    this.collectProfiles({ api: api.pid, bare: bare.pid });
  }

  /** Cold start: from spawn to the first 200 of /health/ready, three times (not profiled). */
  private async startup(): Promise<void> {
    const readyMs: number[] = [];
    for (let i = 0; i < 3; i++) {
      const { proc, readyMs: ms } = await this.serveApi(this.settings.nodeFlags);
      readyMs.push(round(ms, 0));
      await this.procs.stop(proc);
    }
    this.results.startup = { readyMs, medianMs: median(readyMs) };
    log(`cold start to ready: ${readyMs.join(', ')} ms`);
  }

  /** One login per connection (argon2 for each, a few at a time). */
  private async createUsers(client: ApiClient, adminToken: string): Promise<string[]> {
    const emails = Array.from(
      { length: this.settings.connections },
      (_, i) => `user${i}@keel-bench.example`,
    );
    for (let i = 0; i < emails.length; i += 10) {
      await Promise.all(
        emails.slice(i, i + 10).map((email) => client.createUser(adminToken, email, PASSWORD)),
      );
    }
    return emails;
  }

  private async http(
    id: ScenarioId,
    route: string,
    target: LoadTarget,
    load: LoadSettings,
    serverPid: number,
  ): Promise<LoadResult> {
    log(`${route}: warm-up ${load.warmupS} s, ${load.runs} x ${load.durationS} s`);
    const result = await measure(target, load, serverPid);
    this.results.http[id] = { route, ...result };
    const { reqPerSec, p50Ms, p99Ms, serverCpuUsPerRequest } = result.median;
    const failures = result.failures > 0 ? `, ${result.failures} failures` : '';
    const other = Math.max(...result.runs.map((run) => run.cpuPct?.other ?? 0));
    log(
      `${route}: ${reqPerSec} req/s, p50 ${p50Ms} ms, p99 ${p99Ms} ms, ${serverCpuUsPerRequest} µs CPU/req${failures} (other CPU up to ${other}% of a core)`,
    );
    return result;
  }

  /** The cached route, checked to answer X-Cache: HIT before and after the load. */
  private async userHit(
    client: ApiClient,
    user: { token: string; userId: string },
    load: LoadSettings,
    apiPid: number,
  ): Promise<void> {
    const path = `/v1/users/${user.userId}`;
    const cacheOf = async () =>
      (await client.request('GET', path, { token: user.token, expect: 200 })).headers.get(
        'x-cache',
      );
    await cacheOf();
    const before = await cacheOf();
    if (before !== 'HIT') throw new Error(`GET ${path}: X-Cache ${before} on a repeat, not HIT`);
    await this.http(
      'user-hit',
      'GET /v1/users/:id (cache HIT)',
      { url: `${client.baseUrl}${path}`, headers: { authorization: `Bearer ${user.token}` } },
      load,
      apiPid,
    );
    const after = await cacheOf();
    if (after !== 'HIT') log(`warning: X-Cache ${after} after the cached-route load`);
  }

  /** Waits for the worker to finish the enqueue scenario's backlog: its throughput alone. */
  private async drain(): Promise<void> {
    const url = this.env.DATABASE_URL;
    const backlog = await unfinishedJobs(url);
    const since = performance.now();
    let left = backlog;
    while (left > 0 && performance.now() - since < 600_000) {
      await sleep(500);
      left = await unfinishedJobs(url);
    }
    const seconds = (performance.now() - since) / 1000;
    this.results.drain = {
      backlog,
      seconds: round(seconds),
      jobsPerSec: round((backlog - left) / seconds, 0),
    };
    log(`worker drained ${backlog - left} of ${backlog} queued jobs in ${round(seconds)} s`);
    if (left > 0) throw new Error(`${left} jobs still unfinished after 10 minutes`);
  }

  /** --cpu-prof names files CPU.<date>.<time>.<pid>...: renamed to api.cpuprofile and so on. */
  private collectProfiles(pids: Record<string, number>): void {
    const dir = this.settings.cpuProfDir;
    if (!dir || !existsSync(dir)) return;
    this.results.profiles = {};
    for (const [name, pid] of Object.entries(pids)) {
      const file = readdirSync(dir).find((f) => f.startsWith('CPU.') && f.includes(`.${pid}.`));
      if (!file) continue;
      const target = join(dir, `${name}.cpuprofile`);
      renameSync(join(dir, file), target);
      this.results.profiles[name] = relative(ROOT, target);
    }
  }

  /**
   * Every process stopped, the database dropped, the run's Redis keys deleted. Never throws; a
   * second call (the run's end after a signal's) waits for the first.
   */
  cleanup(): Promise<void> {
    this.cleaning ??= this.cleanUp();
    return this.cleaning;
  }

  private async cleanUp(): Promise<void> {
    await this.procs.stopAll();
    let databaseDropped = false;
    let redisKeysDeleted = 0;
    try {
      await dropDatabase(this.settings.adminDatabaseUrl, DATABASE_NAME);
      databaseDropped = true;
    } catch (error) {
      log(`warning: ${DATABASE_NAME} not dropped: ${(error as Error).message}`);
    }
    try {
      redisKeysDeleted = await deleteKeys(this.settings.redisUrl, this.redisPrefix);
    } catch (error) {
      log(`warning: Redis keys under ${this.redisPrefix} not deleted: ${(error as Error).message}`);
    }
    this.results.cleanup = { redisKeysDeleted, databaseDropped };
    log(`cleaned up: ${redisKeysDeleted} Redis keys deleted, database dropped: ${databaseDropped}`);
  }
}

/** The report: measurements against the targets. Targets are reported, not asserted. */
function buildReport(results: Results): Report {
  const { http, settings } = results;
  const bare = http.bare?.median.reqPerSec;
  const ratioOf = (result?: LoadResult) =>
    result && bare ? result.median.reqPerSec / bare : undefined;
  const throughput: ThroughputRow[] = [];
  const row = (
    id: ScenarioId,
    label: string,
    target: string,
    pass?: (result: LoadResult, ratio: number | undefined) => boolean,
  ) => {
    const result = http[id];
    if (!result) return;
    // A steady rate says nothing about throughput.
    const ratio = ['bare', 'bare-rate', 'users-me-rate'].includes(id) ? undefined : ratioOf(result);
    const failures = result.failures > 0 ? ` (${result.failures} non-2xx/errors)` : '';
    throughput.push({
      scenario: `${label}${failures}`,
      reqPerSec: result.median.reqPerSec,
      p50Ms: result.median.p50Ms,
      p99Ms: result.median.p99Ms,
      ratio,
      cpuUsPerRequest: result.median.serverCpuUsPerRequest,
      target,
      pass: pass ? pass(result, ratio) && result.failures === 0 : undefined,
    });
  };
  row('bare', 'Bare Nest route `GET /bare` (reference)', 'reference');
  row('health-live', '`GET /health/live`', dash);
  row(
    'users-me',
    '`GET /v1/users/me` (JWT)',
    '≥ 60% of bare, p99 < 25 ms',
    (r, ratio) => (ratio ?? 0) >= 0.6 && r.median.p99Ms < 25,
  );
  row(
    'user-hit',
    '`GET /v1/users/:id` (JWT, cache HIT)',
    '≥ 70% of bare, p99 < 25 ms',
    (r, ratio) => (ratio ?? 0) >= 0.7 && r.median.p99Ms < 25,
  );
  row(
    'bare-rate',
    `Bare Nest route at a steady ${run0(FIXED_RATE)} req/s (reference)`,
    'reference',
  );
  row(
    'users-me-rate',
    `\`GET /v1/users/me\` (JWT) at a steady ${run0(FIXED_RATE)} req/s`,
    'p99 < 25 ms',
    (r) => r.median.p99Ms < 25,
  );
  row(
    'jobs-enqueue',
    '`POST /v1/jobs` (enqueue)',
    '≥ 1,000 jobs/s',
    (r) => r.median.reqPerSec >= 1000,
  );
  const latency = results.jobLatency;
  if (latency) {
    for (const [label, run] of [
      ['Job enqueue → `job.completed`, one at a time', latency.oneAtATime],
      [
        `Job enqueue → \`job.completed\`, ${run0(latency.burst.jobs)} jobs, ${latency.burst.concurrency} in flight`,
        latency.burst,
      ],
    ] as const) {
      const lost = run.missing + run.failed > 0 ? ` (${run.missing + run.failed} lost/failed)` : '';
      throughput.push({
        scenario: `${label}${lost}`,
        reqPerSec: run.completedPerSec,
        p50Ms: run.latencyMs.p50,
        p99Ms: run.latencyMs.p99,
        target: dash,
      });
    }
  }
  row('login', '`POST /v1/auth/login` (argon2id)', dash);

  const resources: ResourceRow[] = [];
  if (results.startup) {
    resources.push({
      measurement: 'Cold start to ready (`/health/ready` 200), median of 3',
      value: `${results.startup.medianMs} ms (${results.startup.readyMs.join(', ')})`,
      target: '< 2,000 ms',
      pass: results.startup.medianMs < 2000,
    });
  }
  if (results.idleRss) {
    resources.push({
      measurement: 'Idle RSS of the API (30 s without requests, after a short load)',
      value: `${results.idleRss.apiMb} MB (5 s after the load: ${results.idleRss.apiAfterLoadMb} MB; just booted: ${results.idleRss.apiAfterBootMb} MB; bare app: ${results.idleRss.bareMb} MB)`,
      target: '< 200 MB',
      pass: results.idleRss.apiMb < 200,
    });
  }
  const fan = results.fanOut;
  if (fan) {
    const d = fan.deliveries;
    resources.push({
      measurement: `One broadcast to ${run0(fan.clients)} sockets: last delivery, ${d.broadcasts} broadcasts`,
      value: `p99 ${d.lastDeliveryMs.p99} ms, p50 ${d.lastDeliveryMs.p50} ms (per socket: p50 ${d.perClientMs.p50}, p99 ${d.perClientMs.p99} ms)`,
      target: 'p99 < 100 ms, all delivered',
      pass:
        d.lastDeliveryMs.p99 < 100 &&
        d.incomplete === 0 &&
        fan.connectFailures === 0 &&
        fan.clients === settings.sockets,
    });
    const h = fan.held;
    resources.push({
      measurement: `Sockets held by one API process (${run0(h.target)} opened)`,
      value: `${run0(h.connected)} connected (server gauge ${h.serverGauge ?? '?'}), RSS ${h.rssMb} MB (${fan.rssMbBefore} MB before the first socket); broadcast last delivery p99 ${h.deliveries.lastDeliveryMs.p99} ms`,
      target: '≥ 2,000 sockets, RSS < 300 MB',
      pass: h.connected >= 2000 && h.rssMb < 300,
    });
  }
  if (results.drain) {
    const { backlog, seconds, jobsPerSec } = results.drain;
    resources.push({
      measurement: 'Job backlog left by the enqueue runs (one worker, JOB_CONCURRENCY=50)',
      value:
        seconds < 2
          ? `${run0(backlog)} jobs, done in ${seconds} s: the worker kept up with the enqueue rate`
          : `${run0(backlog)} jobs, drained in ${seconds} s (${run0(jobsPerSec)} jobs/s)`,
      target: dash,
    });
  }
  if (results.rssAfterLoadMb !== undefined) {
    resources.push({
      measurement: 'RSS of the API after every scenario',
      value: `${results.rssAfterLoadMb} MB`,
      target: dash,
    });
  }

  const { machine, pinning } = results;
  // Bare and /health/live touch neither PostgreSQL nor Redis: what else ran then was foreign.
  const foreign = Math.max(
    0,
    ...(['bare', 'health-live'] as const).flatMap(
      (id) => http[id]?.runs.map((run) => run.cpuPct?.other ?? 0) ?? [],
    ),
  );
  const context = [
    `Generated by \`npm run bench\` on ${results.generatedAt.slice(0, 10)}: ${machine.cpuModel}, ${machine.cores} cores, ${run0(machine.memoryMb)} MB, Node ${machine.node}, Linux ${machine.kernel}.`,
    `${settings.connections} connections, ${settings.runs} runs of ${settings.durationS} s after a ${settings.warmupS} s warm-up; each figure is the median of the runs (autocannon, 2xx responses only).`,
    `Services mode: APP_ENV=production, PostgreSQL and Redis, rate limits on (set high enough never to refuse), one worker process.`,
    `Node flags of every process: \`${settings.nodeFlags.join(' ') || 'none'}\` (the image's NODE_OPTIONS unless BENCH_NODE_FLAGS is set).`,
    pinning.enabled ? `Pinned with ${pinning.reason}.` : `Not pinned (${pinning.reason}).`,
    `Load average at the start: ${machine.loadAverage.atStart.join(', ')}.`,
  ].join(' ');
  return {
    title: 'Keel benchmark results',
    context,
    throughput,
    resources,
    notes: [
      'vs bare: req/s over the bare Nest route (`bench/bare-app.ts`: one controller, Express, no guards, interceptors or middleware), served by an identical process on the same core in the same run.',
      'CPU µs/req: the server process’s CPU time (user + system) per 2xx response, median of the runs. The bare route’s stays put when other processes compete for the CPU; a route that waits on PostgreSQL or Redis costs more per request when they answer slower (fewer requests per event-loop turn).',
      `Other processes used up to ${foreign}% of a core during the bare and \`/health/live\` runs (which touch neither PostgreSQL nor Redis); well above 10%, req/s and latencies of this run are noisy (per-run CPU shares are in results.json).`,
      `Steady rows: an open-loop client (\`bench/lib/steady.ts\`) sends ${run0(FIXED_RATE)} requests per second evenly over the same ${settings.connections} connections, whatever the server does; latency counts from when a request is handed to the client. At full speed, p99 is mostly queueing (50 requests in flight); at a steady rate it is the server's own tail, young-generation GC pauses included (the bare app's too).`,
      'Job rows: req/s is jobs completed per second, p50/p99 the time from the `POST /v1/jobs` response to `job.completed` on the owner’s socket (worker → Redis → API → Socket.IO).',
      'Broadcast: timed from sending `POST /v1/realtime/broadcast` to each socket’s `broadcast` event in the load generator, whose own event loop receives all the frames (included in the figure).',
      'Login is bound by argon2id (19 MiB, t=2) on one core; no target. Raw runs: `bench/results.json`.',
    ],
  };
}

/** NODE_OPTIONS as the Dockerfile sets it (none today): the production processes' Node flags. */
function imageNodeOptions(): string {
  const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
  return /\bNODE_OPTIONS="([^"]*)"/.exec(dockerfile)?.[1] ?? '';
}

function flagsOf(options: string): string[] {
  return options.split(/\s+/).filter((flag) => flag !== '');
}

function run0(value: number): string {
  return value.toLocaleString('en-US');
}

async function main(): Promise<void> {
  const settings = readSettings();
  const pinning = pinLoadGenerator();
  log(pinning.enabled ? `pinned: ${pinning.reason}` : `not pinned: ${pinning.reason}`);
  log(`scenarios: ${settings.scenarios.join(', ')}`);
  if (settings.cpuProfDir) {
    mkdirSync(settings.cpuProfDir, { recursive: true });
    log(`CPU profiles of the API and the bare app: ${relative(ROOT, settings.cpuProfDir)}`);
  }
  const bench = new Bench(settings, pinning);
  cleanUpOnSignal(() => bench.cleanup());
  try {
    await bench.run();
  } finally {
    await bench.cleanup();
  }
  const report = markdown(buildReport(bench.results));
  mkdirSync(settings.outputDir, { recursive: true });
  await writeFormatted(
    join(settings.outputDir, 'results.json'),
    JSON.stringify(bench.results, null, 2),
  );
  const table = await writeFormatted(join(settings.outputDir, 'RESULTS.md'), report);
  console.log(`\n${table}`);
  log(`written: ${relative(ROOT, join(settings.outputDir, 'RESULTS.md'))} and results.json`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(
      `bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
    process.exit(1);
  },
);
