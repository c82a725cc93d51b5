import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiClient } from './lib/api-client';
import { autocannon } from './lib/autocannon';
import { ADMIN_EMAIL, keelEnvironment } from './lib/environment';
import { BARE_SCRIPT, ROOT, TYPEORM_CLI } from './lib/paths';
import {
  cleanUpOnSignal,
  NodeProcess,
  pinLoadGenerator,
  processCpuMs,
  ProcessGroup,
} from './lib/processes';
import { databaseUrl, deleteKeys, dropDatabase, recreateDatabase } from './lib/services';
import { median } from './lib/stats';

/**
 * Before and after on a host whose speed drifts (a shared VM's does by half within a minute):
 * two commits' production builds and the bare app served side by side on core 0, loaded in
 * turn from core 1 in short bursts, so each pair of bursts saw about the same host. Prints the
 * server CPU per request of every burst, the medians, and the median of the per-pair ratios.
 *
 *   npm run bench:compare -- <before-rev> <after-rev> [path]
 *
 * path: the authenticated GET to load, `{userId}` standing for the admin's id (default: the
 * cached `/v1/users/{userId}`). COMPARE_ROUNDS (12) and COMPARE_BURST_S (3) size the run.
 */

const DATABASE_NAME = 'keel_bench_compare';
const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const PASSWORD = `Bench-${randomBytes(12).toString('base64url')}`;
const CONNECTIONS = 50;

interface Arm {
  name: string;
  proc: NodeProcess;
  url: string;
  cpuUs: number[];
}

function positiveInt(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name}: a positive integer`);
  return value;
}

function git(...args: string[]): string {
  return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim();
}

/** A detached worktree of `rev` in `dir`, built against this checkout's node_modules. */
function build(rev: string, dir: string): void {
  git('worktree', 'add', '--detach', '--force', dir, rev);
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  execFileSync('npm', ['run', 'build'], { cwd: dir, stdio: 'ignore' });
}

function migrate(dir: string, env: Record<string, string>): void {
  execFileSync(
    process.execPath,
    [TYPEORM_CLI, 'migration:run', '-d', join(dir, 'dist/src/database/data-source.js')],
    { cwd: dir, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env }, stdio: 'ignore' },
  );
}

async function main(): Promise<void> {
  const [before, after, path = '/v1/users/{userId}'] = process.argv.slice(2);
  if (!before || !after) throw new Error('usage: bench:compare <before-rev> <after-rev> [path]');
  const rounds = positiveInt('COMPARE_ROUNDS', 12);
  const burstS = positiveInt('COMPARE_BURST_S', 3);
  const pinning = pinLoadGenerator();
  const work = mkdtempSync(join(tmpdir(), 'keel-compare-'));
  const dirs = [join(work, 'before'), join(work, 'after')];
  const redisPrefix = `keel-bench:compare-${process.pid}:`;
  const procs = new ProcessGroup();
  const env = keelEnvironment({
    databaseUrl: databaseUrl(ADMIN_URL, DATABASE_NAME),
    redisUrl: REDIS_URL,
    redisPrefix,
    logLevel: 'warn',
    adminPassword: PASSWORD,
  });
  let cleaning: Promise<void> | undefined;
  const cleanup = () =>
    (cleaning ??= (async () => {
      await procs.stopAll();
      await dropDatabase(ADMIN_URL, DATABASE_NAME).catch(() => undefined);
      await deleteKeys(REDIS_URL, redisPrefix).catch(() => undefined);
      for (const dir of dirs) {
        if (existsSync(dir)) git('worktree', 'remove', '--force', dir);
      }
      rmSync(work, { recursive: true, force: true });
    })());
  cleanUpOnSignal(cleanup);
  try {
    console.log(`building ${before} and ${after} in ${work} (${pinning.reason})`);
    build(before, dirs[0]);
    build(after, dirs[1]);
    await recreateDatabase(ADMIN_URL, DATABASE_NAME);
    // The later commit's migrations run last: its schema is what both builds serve.
    for (const dir of dirs) migrate(dir, env);
    const scripts: [string, string, string][] = [
      ['bare', BARE_SCRIPT, '/bare'],
      [`before (${before})`, join(dirs[0], 'dist/src/main.js'), '/health/ready'],
      [`after (${after})`, join(dirs[1], 'dist/src/main.js'), '/health/ready'],
    ];
    const arms: Arm[] = [];
    for (const [name, script, readyPath] of scripts) {
      if (!existsSync(script)) throw new Error(`${script} is missing: run npm run build first`);
      const { proc, url } = await procs.serve(name, script, 'PORT', readyPath, {
        env,
        core: pinning.serverCore,
      });
      arms.push({ name, proc, url, cpuUs: [] });
    }
    const admin = await new ApiClient(arms[1].url).login(ADMIN_EMAIL, PASSWORD);
    const headers = { authorization: `Bearer ${admin.token}` };
    const target = (arm: Arm) =>
      arm.name === 'bare'
        ? `${arm.url}/bare`
        : `${arm.url}${path.replace('{userId}', admin.userId)}`;
    const burst = async (arm: Arm, seconds: number): Promise<number> => {
      const cpuBefore = processCpuMs(arm.proc.pid);
      const result = await autocannon({
        url: target(arm),
        connections: CONNECTIONS,
        duration: seconds,
        headers,
      });
      if (result.non2xx > 0 || result.errors > 0 || result['2xx'] === 0) {
        throw new Error(`${arm.name}: ${result.non2xx} non-2xx answers, ${result.errors} errors`);
      }
      return ((processCpuMs(arm.proc.pid) - cpuBefore) * 1000) / result['2xx'];
    };
    for (const arm of arms) await burst(arm, 2);
    for (let round = 0; round < rounds; round++) {
      // Alternate the order, so neither build always follows the other.
      for (const arm of round % 2 ? [...arms].reverse() : arms)
        arm.cpuUs.push(await burst(arm, burstS));
    }
    const [bare, first, second] = arms;
    console.log(
      `\n${rounds} rounds of ${burstS} s bursts at ${CONNECTIONS} connections, GET ${path}`,
    );
    for (const arm of arms) {
      const ratio = median(arm.cpuUs.map((cpu, i) => bare.cpuUs[i] / cpu));
      console.log(
        `${arm.name}: median ${median(arm.cpuUs).toFixed(0)} µs CPU/request` +
          `${arm === bare ? '' : `, ${(100 * ratio).toFixed(0)}% of the bare route`}` +
          ` [${arm.cpuUs.map((cpu) => cpu.toFixed(0)).join(' ')}]`,
      );
    }
    const pairs = second.cpuUs.map((cpu, i) => cpu / first.cpuUs[i]);
    console.log(
      `after/before, median of the pairs: ${(100 * median(pairs)).toFixed(1)}%` +
        ` (${(100 * Math.min(...pairs)).toFixed(0)}–${(100 * Math.max(...pairs)).toFixed(0)}%)`,
    );
  } finally {
    await cleanup();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`compare failed: ${(error as Error).message}`);
    process.exit(1);
  },
);
