import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { autocannon, AutocannonOptions, AutocannonResult } from './autocannon';
import { machineBusyMs, processCpuMs } from './processes';
import { steady, SteadyResult } from './steady';
import { median, percentile, round } from './stats';

/** One autocannon target: a route with its method, headers and body. */
export interface LoadTarget {
  url: string;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  /** A steady request rate over all connections (bench/lib/steady.ts), not as fast as possible. */
  ratePerSec?: number;
  /** Per connection: e.g. a different user's credentials on each. */
  setupClient?: AutocannonOptions['setupClient'];
}

export interface LoadSettings {
  connections: number;
  durationS: number;
  warmupS: number;
  runs: number;
}

/** One run, reduced to what the report needs (2xx only in throughput and latency). */
export interface LoadRun {
  reqPerSec: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  requests2xx: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  durationS: number;
  statusCodes: Record<string, number>;
  /** CPU of the server process per 2xx response, in µs: steadier than req/s on a busy machine. */
  serverCpuUsPerRequest?: number;
  /** Shares of one core over the run: the server, this process, and everything else (database, Redis, worker, other users). */
  cpuPct?: { server: number; loadGenerator: number; other: number };
}

export interface LoadResult {
  connections: number;
  durationS: number;
  warmup: LoadRun;
  runs: LoadRun[];
  /** Each figure's median over the runs. */
  median: { reqPerSec: number; p50Ms: number; p99Ms: number; serverCpuUsPerRequest?: number };
  /** Responses other than 2xx, errors and timeouts over every measured run. */
  failures: number;
}

function summarise(result: AutocannonResult): LoadRun {
  const statusCodes: Record<string, number> = {};
  for (const [code, { count }] of Object.entries(result.statusCodeStats)) statusCodes[code] = count;
  return {
    reqPerSec: round(result['2xx'] / result.duration, 0),
    p50Ms: result.latency.p50,
    p90Ms: result.latency.p90,
    p99Ms: result.latency.p99,
    maxMs: result.latency.max,
    requests2xx: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    durationS: result.duration,
    statusCodes,
  };
}

function summariseSteady(result: SteadyResult): LoadRun {
  const ok = result.latenciesMs.length;
  const all = Object.values(result.statusCodes).reduce((sum, count) => sum + count, 0);
  return {
    reqPerSec: round(ok / result.durationS, 0),
    p50Ms: round(percentile(result.latenciesMs, 50)),
    p90Ms: round(percentile(result.latenciesMs, 90)),
    p99Ms: round(percentile(result.latenciesMs, 99)),
    maxMs: round(percentile(result.latenciesMs, 100)),
    requests2xx: ok,
    non2xx: all - ok,
    errors: result.errors,
    timeouts: 0,
    durationS: round(result.durationS),
    statusCodes: result.statusCodes,
  };
}

async function fire(
  target: LoadTarget,
  connections: number,
  durationS: number,
  serverPid?: number,
): Promise<LoadRun> {
  const before = {
    at: performance.now(),
    server: serverPid === undefined ? 0 : processCpuMs(serverPid),
    self: process.cpuUsage(),
    machine: machineBusyMs(),
  };
  const run =
    target.ratePerSec === undefined
      ? summarise(
          await autocannon({
            url: target.url,
            method: target.method ?? 'GET',
            headers: target.headers,
            body: target.body,
            setupClient: target.setupClient,
            connections,
            duration: durationS,
            timeout: 10,
          }),
        )
      : summariseSteady(await steady(target, target.ratePerSec, connections, durationS));
  if (serverPid === undefined) return run;
  const elapsedMs = performance.now() - before.at;
  const server = processCpuMs(serverPid) - before.server;
  const self = process.cpuUsage(before.self);
  const loadGenerator = (self.user + self.system) / 1000;
  const machine = machineBusyMs() - before.machine;
  const pct = (ms: number) => round((100 * ms) / elapsedMs, 0);
  return {
    ...run,
    serverCpuUsPerRequest:
      run.requests2xx > 0 ? round((server * 1000) / run.requests2xx, 0) : undefined,
    cpuPct: {
      server: pct(server),
      loadGenerator: pct(loadGenerator),
      other: pct(Math.max(0, machine - server - loadGenerator)),
    },
  };
}

/**
 * A warm-up (discarded), then `runs` runs a second apart; the median of each figure. With
 * `serverPid`, each run also records the server's CPU per response and who used the machine.
 */
export async function measure(
  target: LoadTarget,
  settings: LoadSettings,
  serverPid?: number,
): Promise<LoadResult> {
  const warmup = await fire(target, settings.connections, settings.warmupS);
  const runs: LoadRun[] = [];
  for (let i = 0; i < settings.runs; i++) {
    await sleep(1000);
    runs.push(await fire(target, settings.connections, settings.durationS, serverPid));
  }
  return {
    connections: settings.connections,
    durationS: settings.durationS,
    warmup,
    runs,
    median: {
      reqPerSec: median(runs.map((run) => run.reqPerSec)),
      p50Ms: median(runs.map((run) => run.p50Ms)),
      p99Ms: median(runs.map((run) => run.p99Ms)),
      serverCpuUsPerRequest:
        serverPid === undefined
          ? undefined
          : median(runs.map((run) => run.serverCpuUsPerRequest ?? Number.NaN)),
    },
    failures: runs.reduce((sum, run) => sum + run.non2xx + run.errors + run.timeouts, 0),
  };
}
