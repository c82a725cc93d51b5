import { ChildProcess, execFile, spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

const MAIN = join(__dirname, '..', '..', 'dist', 'src', 'main.js');
const WORKER = join(__dirname, '..', '..', 'dist', 'src', 'worker.js');
const ROOT = join(__dirname, '..', '..');

export interface KeelProcess {
  child: ChildProcess;
  port: number;
  url: string;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

/**
 * A port free now, for a child process to listen on. Picked below Linux's ephemeral range
 * (32768-60999), not by listening on port 0: the kernel hands ephemeral ports to outgoing
 * connections too, and one of the many test connections to PostgreSQL or Redis could take the
 * port before the child has bound it.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = 20_000 + randomInt(12_000);
    if (await bindable(port)) return port;
  }
  throw new Error('no free port found between 20000 and 32000');
}

function bindable(port: number): Promise<boolean> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** Runs the built API (`node dist/src/main.js`, as in production) with only the given environment. */
export function spawnKeel(env: Record<string, string>): Promise<KeelProcess> {
  return spawnBuilt(MAIN, 'PORT', env);
}

/**
 * Runs the built worker (`node dist/src/worker.js`, as in production) with only the given
 * environment; `port` and `url` are its health and metrics port (WORKER_PORT).
 */
export function spawnWorker(env: Record<string, string>): Promise<KeelProcess> {
  return spawnBuilt(WORKER, 'WORKER_PORT', env);
}

async function spawnBuilt(
  script: string,
  portVariable: 'PORT' | 'WORKER_PORT',
  env: Record<string, string>,
): Promise<KeelProcess> {
  if (!existsSync(script))
    throw new Error(`${script} is missing: run npm run build first (npm test does).`);
  const port = await freePort();
  const child = spawn(process.execPath, [script], {
    env: { PATH: process.env.PATH, [portVariable]: String(port), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  return {
    child,
    port,
    url: `http://127.0.0.1:${port}`,
    stdout: () => out,
    stderr: () => err,
    exited,
  };
}

/** Resolves once the process answers /health/live; rejects if it exits or takes too long. */
export async function waitUntilServing(keel: KeelProcess, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exitCode: number | null | undefined;
  void keel.exited.then((code) => (exitCode = code));
  while (Date.now() < deadline) {
    if (exitCode !== undefined) {
      throw new Error(`Keel exited with ${exitCode}:\n${keel.stderr()}\n${keel.stdout()}`);
    }
    try {
      if ((await fetch(`${keel.url}/health/live`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  keel.child.kill('SIGKILL');
  throw new Error(`Keel did not serve within ${timeoutMs} ms:\n${keel.stderr()}\n${keel.stdout()}`);
}

/** Cleanup for afterAll: SIGKILLs the process unless it has exited already, then awaits its exit. */
export async function killProcess(keel: KeelProcess | undefined): Promise<void> {
  if (!keel) return;
  if (keel.child.exitCode === null && keel.child.signalCode === null) keel.child.kill('SIGKILL');
  await keel.exited;
}

/**
 * `npm run migration:run` as a production release runs it (the API migrates at boot only in
 * development and test): the TypeORM CLI on the built data source, with only the given environment.
 */
export function runMigrations(env: Record<string, string>, timeoutMs = 30_000): Promise<void> {
  const cli = join(ROOT, 'node_modules', 'typeorm', 'cli.js');
  const dataSource = join(ROOT, 'dist', 'src', 'database', 'data-source.js');
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [cli, 'migration:run', '-d', dataSource],
      { cwd: ROOT, env: { PATH: process.env.PATH, ...env }, timeout: timeoutMs },
      (error, stdout, stderr) =>
        error
          ? reject(new Error(`migration:run failed: ${stderr}\n${stdout}`, { cause: error }))
          : resolve(),
    );
  });
}
