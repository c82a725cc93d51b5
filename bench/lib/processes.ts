import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { get } from 'node:http';
import { createServer } from 'node:net';
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

/** Which cores the servers and the load generator run on, when they can be kept apart. */
export interface Pinning {
  enabled: boolean;
  serverCore?: number;
  loadCore?: number;
  reason: string;
}

/**
 * Servers on core 0, this process (the load generator, with every thread it has) on core 1,
 * so the two do not steal each other's time slices; PostgreSQL and Redis stay unpinned.
 */
export function pinLoadGenerator(): Pinning {
  if (availableParallelism() < 2) return { enabled: false, reason: 'fewer than 2 cores' };
  try {
    execFileSync('taskset', ['-a', '-cp', '1', String(process.pid)], { stdio: 'ignore' });
  } catch {
    return { enabled: false, reason: 'taskset is not available' };
  }
  return {
    enabled: true,
    serverCore: 0,
    loadCore: 1,
    reason: 'taskset: API and bare app on core 0; load generator and job worker on core 1',
  };
}

export interface NodeProcess {
  name: string;
  child: ChildProcess;
  /** The node process's pid (taskset execs node in place). */
  pid: number;
  /** The last 64 kB of its stdout and stderr. */
  output(): string;
  exited: Promise<number | null>;
  hasExited(): boolean;
}

export interface SpawnOptions {
  env: Record<string, string>;
  nodeFlags?: string[];
  /** Pin to this core with taskset. */
  core?: number;
}

/** Every process the harness started, so that each is stopped however the run ends. */
export class ProcessGroup {
  private readonly running = new Set<NodeProcess>();

  spawn(name: string, script: string, options: SpawnOptions): NodeProcess {
    if (!existsSync(script)) throw new Error(`${script} is missing: run npm run build first`);
    const nodeArgs = [...(options.nodeFlags ?? []), script];
    const [command, args] =
      options.core === undefined
        ? [process.execPath, nodeArgs]
        : ['taskset', ['-c', String(options.core), process.execPath, ...nodeArgs]];
    const child = spawn(command, args, {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-65_536);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    let done = false;
    const exited = new Promise<number | null>((resolve) =>
      child.once('exit', (code) => {
        done = true;
        resolve(code);
      }),
    );
    if (child.pid === undefined) throw new Error(`${name} did not start`);
    const started: NodeProcess = {
      name,
      child,
      pid: child.pid,
      output: () => output,
      exited,
      hasExited: () => done,
    };
    this.running.add(started);
    void exited.then(() => this.running.delete(started));
    return started;
  }

  /**
   * Spawns a server on a free port (in `portVariable`) and resolves once `readyPath` answers 200,
   * with the time from spawn to then. Another process may take the port between the check and
   * the listen (EADDRINUSE): the server is then started again on another one.
   */
  async serve(
    name: string,
    script: string,
    portVariable: string,
    readyPath: string,
    options: SpawnOptions,
  ): Promise<{ proc: NodeProcess; url: string; readyMs: number }> {
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const since = performance.now();
      const proc = this.spawn(name, script, {
        ...options,
        env: { ...options.env, [portVariable]: String(port) },
      });
      const url = `http://127.0.0.1:${port}`;
      try {
        return { proc, url, readyMs: await waitFor200(proc, `${url}${readyPath}`, since) };
      } catch (error) {
        await this.stop(proc);
        if (attempt >= 3 || !proc.output().includes('EADDRINUSE')) throw error;
      }
    }
  }

  /** SIGTERM (the graceful drain), SIGKILL if it has not exited after `timeoutMs`. */
  async stop(proc: NodeProcess, timeoutMs = 15_000): Promise<void> {
    if (proc.hasExited()) return;
    proc.child.kill('SIGTERM');
    const exited = await Promise.race([proc.exited.then(() => true), sleep(timeoutMs, false)]);
    if (!exited) {
      proc.child.kill('SIGKILL');
      await proc.exited;
    }
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.running].map((proc) => this.stop(proc)));
  }
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The status of one GET, or 0 when nothing answers. */
function statusOf(url: string): Promise<number> {
  return new Promise((resolve) => {
    const request = get(url, { agent: false, timeout: 2000 }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.on('timeout', () => request.destroy());
    request.on('error', () => resolve(0));
  });
}

/**
 * Polls `url` every 10 ms until it answers 200; resolves with the milliseconds since `since`
 * (a performance.now() time). Rejects when the process exits or `timeoutMs` passes.
 */
export async function waitFor200(
  proc: NodeProcess,
  url: string,
  since = performance.now(),
  timeoutMs = 30_000,
): Promise<number> {
  while (performance.now() - since < timeoutMs) {
    if (proc.hasExited()) throw new Error(`${proc.name} exited:\n${proc.output()}`);
    if ((await statusOf(url)) === 200) return performance.now() - since;
    await sleep(10);
  }
  throw new Error(`${proc.name}: ${url} not 200 after ${timeoutMs} ms:\n${proc.output()}`);
}

/** Resident set size in MB, from /proc/<pid>/status (VmRSS). */
export function rssMb(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]) / 1024;
}

let ticksPerSecond: number | undefined;
function msPerTick(): number {
  ticksPerSecond ??=
    Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  return 1000 / ticksPerSecond;
}

/** CPU time a process has used so far, in ms (utime + stime of /proc/<pid>/stat). */
export function processCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // After "pid (comm) ": state is field 3, utime 14 and stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * msPerTick();
}

/** Busy CPU time of the whole machine so far, in ms summed over every core (/proc/stat). */
export function machineBusyMs(): number {
  const cpu = readFileSync('/proc/stat', 'utf8')
    .split('\n', 1)[0]
    .split(/\s+/)
    .slice(1)
    .map(Number);
  // user nice system idle iowait irq softirq steal: idle and iowait are not busy.
  const busy = cpu.slice(0, 8).reduce((sum, value) => sum + value, 0) - cpu[3] - cpu[4];
  return busy * msPerTick();
}

/**
 * Ctrl-C (SIGINT) or a kill (SIGTERM) runs `cleanup`, then exits as the signal would have
 * (128 + its number), so an interrupted run leaves no server, database or Redis key behind.
 * `cleanup` must return the same promise however often it is called: the run's own `finally`
 * then waits for it instead of going on with a half-stopped run.
 */
export function cleanUpOnSignal(cleanup: () => Promise<void>): void {
  const codes = { SIGINT: 130, SIGTERM: 143 } as const;
  for (const [signal, code] of Object.entries(codes)) {
    process.once(signal, () => {
      console.error(`${signal}: cleaning up`);
      void cleanup().finally(() => process.exit(code));
    });
  }
}
